import { run } from './main.js'

// The runner sends SIGINT when a run is cancelled, SIGTERM a few seconds later, then kills the
// process: stop waiting at the first signal and report what is known.
const controller = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => controller.abort())

process.exitCode = await run({ signal: controller.signal })
// A request abandoned by the cancellation may hold the event loop; do not let it hold the exit.
if (controller.signal.aborted) setTimeout(() => process.exit(), 200).unref()
