import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { RUN_CONTEXT, runAction } from '../scripts/runner.js'
import { baseInputs, runInProcess } from './helpers/run-in-process.js'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({ defaultUpload: [{ pendingMs: 200, outcome: 'ready' }], ...options })
  return emulator
}

const GET_IMAGE = /^\/deviceManagement\/virtualEndpoint\/deviceImages\/[^/]+$/

describe('cancellation', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('on %s stops waiting, writes outputs and summary, exits non-zero', async signal => {
    const e = await start({ defaultUpload: [{ pendingMs: 60_000, outcome: 'ready' }] })
    const result = await runAction({
      inputs: baseInputs(e, { pollIntervalSeconds: '0.5', timeoutMinutes: '5' }),
      env: RUN_CONTEXT,
      // Once the wait has begun, as a person pressing "Cancel" would.
      signalWhen: { text: 'is pending', signal }
    })
    expect(result.signalledAt).toBeDefined()
    expect(result.code).not.toBe(0)
    // It stopped waiting: no status read after the signal, but the one that may have been under way.
    const readsAfter = e.requests.filter(x => x.route === 'deviceImages.get' && x.time > result.signalledAt!)
    expect(readsAfter.length).toBeLessThanOrEqual(1)
    const [image] = e.images()
    expect(result.outputs).toMatchObject({ imageId: image.id, status: 'pending', result: 'created', uploadAttempts: '1' })
    expect(result.summary).toContain('cancelled')
    expect(result.summary).toContain('the upload goes on in the service')
    expect(result.stdout).toMatch(/::error title=Cancelled::/)
  })
})

describe('odd answers', () => {
  it.each([
    ['a malformed body', { kind: 'malformed', body: '{"id": ' } as const],
    ['an empty body', { kind: 'malformed', body: '' } as const],
    ['a 502', { kind: 'status', status: 502 } as const],
    ['a dropped connection', { kind: 'drop' } as const]
  ])('reads the image again after %s', async (_name, fault) => {
    const e = await start({ faults: [{ method: 'GET', path: GET_IMAGE, fault }] })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    const reads = e.requests.filter(x => x.route === 'deviceImages.get')
    expect(reads[0].fault).toBeDefined()
    expect(r.outputs.status).toBe('ready')
  })

  it('keeps waiting on an image with no status, saying so once', async () => {
    const e = await start({ defaultUpload: [{ pendingMs: 300, outcome: 'ready' }] })
    // The image as created, less its status: an answer about the image asked for.
    e.before({ method: 'POST', path: /deviceImages$/ }, () =>
      e.before({ method: 'GET', path: GET_IMAGE }, () => {
        const { id } = e.images()[0]
        e.addFault({
          method: 'GET',
          path: GET_IMAGE,
          times: 2,
          fault: { kind: 'malformed', body: JSON.stringify({ id, displayName: 'Win11-Dev', version: '1.4.0' }) }
        })
      })
    )
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(r.logger.of('info').filter(l => l.message.includes('without a status'))).toHaveLength(1)
  })

  it('fails clearly when the image is deleted during the wait', async () => {
    const e = await start({
      defaultUpload: [{ pendingMs: 60_000, outcome: 'ready' }],
      faults: [{ method: 'GET', path: GET_IMAGE, skip: 2, fault: { kind: 'status', status: 404, code: 'itemNotFound' } }]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Image deleted',
      message: expect.stringMatching(/deleted while this run waited/)
    })
  })

  it('explains a 409 on create: another run is publishing the same image', async () => {
    const e = await start({
      faults: [{ method: 'POST', path: /deviceImages$/, fault: { kind: 'status', status: 409, code: 'conflict' } }]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Image already exists',
      message: expect.stringMatching(/concurrency group/)
    })
  })

  it('gives up on a request that hangs past the client time-out and tries again', async () => {
    const e = await start({ faults: [{ method: 'GET', path: /deviceImages$/, fault: { kind: 'delay', ms: 1500 } }] })
    const r = await runInProcess(baseInputs(e), { requestTimeoutMs: 500 })
    expect(r.code).toBe(0)
    expect(r.logger.of('info').map(l => l.message)).toContainEqual(expect.stringMatching(/Request timeout.*retrying/))
  })
})
