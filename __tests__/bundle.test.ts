// Runs the committed dist/index.js as a child process, the way a GitHub runner does.
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { RUN_CONTEXT, runAction } from '../scripts/runner.js'
import { baseInputs, CLIENT_SECRET } from './helpers/run-in-process.js'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

describe('the bundled action', () => {
  it('publishes through a failure and a retry, and writes GITHUB_OUTPUT and the step summary', async () => {
    emulator = await startEmulator({
      defaultUpload: [
        { pendingMs: 300, outcome: 'failed', errorCode: 'internalServerError' },
        { pendingMs: 300, outcome: 'ready' }
      ]
    })
    const result = await runAction({ inputs: baseInputs(emulator.url, { pollIntervalSeconds: '0.1' }), env: RUN_CONTEXT })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const [image] = emulator.images()
    expect(result.outputs).toMatchObject({
      imageId: image.id,
      status: 'ready',
      result: 'created',
      uploadAttempts: '2',
      errorCode: ''
    })
    expect(JSON.parse(result.outputs.image)).toMatchObject({ id: image.id, status: 'ready' })
    expect(result.summary).toContain('Cloud PC image ready')
    expect(result.summary).toContain(image.id)
    expect(result.summary).toContain('https://github.com/contoso/cloudpc-images/actions/runs/4242')
    // Masked at once: the runner is told before the first request is made.
    expect(result.stdout.indexOf(`::add-mask::${CLIENT_SECRET}`)).toBe(0)
    const everything = result.stdout + JSON.stringify(result.outputs) + result.summary
    expect(everything.replace(`::add-mask::${CLIENT_SECRET}`, '')).not.toContain(CLIENT_SECRET)
    for (const request of emulator.requests.filter(r => r.route !== 'token')) {
      const token = request.headers.authorization.replace('Bearer ', '')
      expect(result.stdout).toContain(`::add-mask::${token}`)
      expect(everything.split(`::add-mask::${token}`).join('')).not.toContain(token)
    }
  })

  it('fails bad input with one annotation per input and sends no request', async () => {
    emulator = await startEmulator()
    const result = await runAction({
      inputs: baseInputs(emulator.url, { version: '1.4', timeoutMinutes: '0', graphEndpoint: 'http://graph.example.com' }),
      env: RUN_CONTEXT
    })
    expect(result.code).toBe(1)
    const errors = result.stdout.split('\n').filter(line => line.startsWith('::error'))
    expect(errors).toHaveLength(3)
    expect(errors.join('\n')).toMatch(/title=Invalid input%3A version::/)
    expect(errors.join('\n')).toMatch(/title=Invalid input%3A timeoutMinutes::/)
    expect(errors.join('\n')).toMatch(/title=Invalid input%3A graphEndpoint::/)
    expect(emulator.requests).toEqual([])
    expect(result.summary).toContain('invalid inputs')
  })
})
