// Runs the committed dist/index.js as a child process, the way a GitHub runner does.
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { RUN_CONTEXT, runAction } from '../scripts/runner.js'
import { baseInputs, CLIENT_SECRET, OTHER_SOURCE } from './helpers/run-in-process.js'

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
    const result = await runAction({ inputs: baseInputs(emulator, { pollIntervalSeconds: '0.1' }), env: RUN_CONTEXT })
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
      inputs: baseInputs(emulator, { version: '1.4', timeoutMinutes: '0', graphEndpoint: 'http://graph.example.com' }),
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

  it('takes a gallery source with a notice, falls back to reupload on a 400, and waits out stale reads after the retry', async () => {
    const gallery =
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/galleries/cpc_gallery/images/win11-ent/versions/1.4.0'
    emulator = await startEmulator({
      knobs: { retryUpload: 'unknownSegment', reupload: 'working', staleReadsAfterRetryMs: 500 },
      defaultUpload: [
        { pendingMs: 200, outcome: 'failed', errorCode: 'internalServerError' },
        { pendingMs: 200, outcome: 'ready' }
      ]
    })
    const result = await runAction({
      inputs: baseInputs(emulator, { sourceImageResourceId: gallery, pollIntervalSeconds: '0.1' }),
      env: RUN_CONTEXT
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/::notice title=Gallery source \(preview\)::.*preview/)
    expect(emulator.images()[0].sourceImageResourceId).toBe(gallery)
    const writes = emulator.writes().map(w => `${w.route} ${w.status}`)
    expect(writes).toEqual(['deviceImages.create 201', 'deviceImages.retryUpload 400', 'deviceImages.reupload 204'])
    expect(result.outputs).toMatchObject({ status: 'ready', result: 'created', uploadAttempts: '2' })
  })

  it('refuses to update a ready image with another source before any write, and reports no update', async () => {
    const image = '11111111-aaaa-4aaa-8aaa-111111111111'
    emulator = await startEmulator({
      knobs: { imagePatch: 'accept200' },
      images: [{ id: image, displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: OTHER_SOURCE }]
    })
    const result = await runAction({ inputs: baseInputs(emulator, { onExisting: 'update' }), env: RUN_CONTEXT })
    expect(result.code).toBe(1)
    expect(emulator.writes()).toEqual([])
    expect(result.stdout).toMatch(/::error title=Image cannot be updated::/)
    expect(result.outputs).toMatchObject({ imageId: image, status: 'ready' })
    expect(result.outputs.result).toBeUndefined()
  })

  it('quotes the request IDs of the read that saw a failed upload', async () => {
    emulator = await startEmulator({
      defaultUpload: [{ pendingMs: 200, outcome: 'failed', errorCode: 'sourceImageNotGeneralized' }]
    })
    const result = await runAction({ inputs: baseInputs(emulator, { pollIntervalSeconds: '0.1' }), env: RUN_CONTEXT })
    expect(result.code).toBe(1)
    const read = emulator.requests.filter(r => r.route === 'deviceImages.get').at(-1)!
    const error = result.stdout.split('\n').find(line => line.startsWith('::error'))!
    expect(error).toContain(`client-request-id: ${read.headers['client-request-id']}`)
    expect(error).toMatch(/request-id: [0-9a-f-]{36};/)
    expect(result.outputs).toMatchObject({ status: 'failed', errorCode: 'sourceImageNotGeneralized' })
  })
})
