import { run } from './main.js'

// The runner sends SIGINT on cancel, then SIGTERM: stop waiting and report what is known.
const controller = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort())

process.exitCode = await run({ signal: controller.signal })
