// The committed bundle (dist/index.js, run as a child process the way a GitHub runner does) against
// services that answer badly on purpose.
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { RUN_CONTEXT, runAction } from '../scripts/runner.js'
import { baseInputs } from './helpers/run-in-process.js'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

const TOKEN_PATH = /\/oauth2\/v2\.0\/token$/

describe('the bundled action under a throttle', () => {
  it('backs off under Retry-After: 0 instead of repeating the request at once', async () => {
    // The token endpoint throttles with "retry after 0 seconds" for a window, then answers.
    const WINDOW_MS = 2500
    emulator = await startEmulator({
      faults: [{ path: TOKEN_PATH, times: Infinity, fault: { kind: 'status', status: 429, retryAfter: '0' } }]
    })
    emulator.before({ path: TOKEN_PATH }, e => void setTimeout(() => e.clearFaults(), WINDOW_MS))
    const result = await runAction({ inputs: baseInputs(emulator), env: RUN_CONTEXT })
    expect(result.code).toBe(0)
    // The default backoff waits 1-2 s after a first attempt and 2-4 s after a second: however slow
    // the machine, no more than two attempts fall in the window.
    const throttled = emulator.requests.filter(r => r.route === 'token' && r.status === 429)
    expect(throttled.length).toBeGreaterThanOrEqual(1)
    expect(throttled.length).toBeLessThanOrEqual(2)
  })
})
