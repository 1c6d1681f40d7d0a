// npm run demo: publishes an image against the local Graph emulator with the built dist/index.js,
// run exactly as a GitHub runner runs it. The image fails once with internalServerError, the action
// asks the service to retry, and the image becomes ready.

import { existsSync } from 'node:fs'
import { startEmulator } from '../emulator/index.js'
import { BUNDLE, RUN_CONTEXT, runAction } from './runner.js'

const DISPLAY_NAME = 'Win11-Dev'

if (!existsSync(BUNDLE)) {
  console.error('dist/index.js is missing: run "npm run build" first.')
  process.exit(2)
}

const emulator = await startEmulator({
  uploadScripts: [
    {
      match: { displayName: DISPLAY_NAME },
      attempts: [
        { pendingMs: 2000, outcome: 'failed', errorCode: 'internalServerError' },
        { pendingMs: 3000, outcome: 'ready' }
      ]
    }
  ]
})
console.log(`Graph emulator listening on ${emulator.url}\n`)
console.log('── step log ' + '─'.repeat(60))

const result = await runAction({
  env: RUN_CONTEXT,
  inputs: {
    displayName: DISPLAY_NAME,
    version: '1.4.0',
    sourceImageResourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/images/win11-dev',
    tenantId: '00000000-0000-0000-0000-000000000001',
    clientId: '00000000-0000-0000-0000-000000000002',
    clientSecret: 'local-only-secret',
    graphEndpoint: emulator.url,
    authorityHost: emulator.url,
    pollIntervalSeconds: '1',
    timeoutMinutes: '2'
  },
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
  `Exit code ${String(result.code)} after ${(result.durationMs / 1000).toFixed(1)} s; ${emulator.requests.length} requests reached the emulator.`
)
process.exit(result.code ?? 1)
