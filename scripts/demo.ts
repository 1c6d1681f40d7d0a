// npm run demo: publishes an image against the local Graph emulator with the built dist/index.js,
// run exactly as a GitHub runner runs it. The image fails once with internalServerError, the action
// asks the service to retry, and the image becomes ready.

import { formatDuration } from '../src/core/duration.js'
import { existsSync } from 'node:fs'
import { startEmulator } from '../emulator/index.js'
import { demoEmulator, demoInputs } from './demo-scenario.js'
import { BUNDLE, RUN_CONTEXT, runAction } from './runner.js'

if (!existsSync(BUNDLE)) {
  console.error('dist/index.js is missing: run "npm run build" first.')
  process.exit(2)
}

const emulator = await startEmulator(demoEmulator())
console.log(`Graph emulator listening on ${emulator.url}\n`)
console.log('── step log ' + '─'.repeat(60))

const result = await runAction({
  env: RUN_CONTEXT,
  inputs: demoInputs(emulator),
  onStdout: chunk => process.stdout.write(chunk)
})
await emulator.close()

console.log('── outputs ' + '─'.repeat(61))
const width = Math.max(...Object.keys(result.outputs).map(k => k.length))
for (const [name, value] of Object.entries(result.outputs)) {
  const shown = value.length > 100 ? `${value.slice(0, 97)}...` : value
  console.log(`${name.padEnd(width)}  ${shown}`)
}
console.log('── job summary (GITHUB_STEP_SUMMARY) ' + '─'.repeat(35))
console.log(result.summary)
console.log('─'.repeat(72))
if (result.stderr.trim()) console.error(result.stderr)
console.log(
  `Exit code ${String(result.code)} after ${formatDuration(result.durationMs)}; ${emulator.requests.length} requests reached the emulator.`
)
process.exit(result.code ?? 1)
