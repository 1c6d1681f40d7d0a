import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { FakeClock } from './helpers/fake-clock.js'
import { baseInputs, CLIENT_SECRET, runInProcess, SOURCE } from './helpers/run-in-process.js'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator(options)
  return emulator
}

const graph = (e: Emulator) => e.requests.filter(r => r.route !== 'token' && r.server === 'graph')
const routes = (e: Emulator) => graph(e).map(r => r.route)

describe('publish against the emulator', () => {
  it('creates the image, waits until ready and sets every output', async () => {
    const e = await start({ defaultUpload: [{ pendingMs: 150, outcome: 'ready' }] })
    const r = await runInProcess(baseInputs(e))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    const [image] = e.images()
    expect(e.images()).toHaveLength(1)
    expect(r.outputs).toMatchObject({
      imageId: image.id,
      status: 'ready',
      errorCode: '',
      result: 'created',
      uploadAttempts: '1',
      operatingSystem: 'Windows 11 Enterprise',
      osBuildNumber: '24H2',
      osStatus: 'supported',
      sizeInGB: '64',
      updatedPolicyIds: '[]',
      reprovisionedCloudPcIds: '[]'
    })
    expect(r.outputs.expirationDate).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    const parsed = JSON.parse(r.outputs.image) as Record<string, unknown>
    expect(parsed).toMatchObject({ id: image.id, displayName: 'Win11-Dev', version: '1.4.0', status: 'ready' })
    expect(Object.keys(parsed).filter(k => k.startsWith('@odata'))).toEqual([])
    // One list, one create, then reads only.
    const seen = routes(e)
    expect(seen.slice(0, 2)).toEqual(['deviceImages.list', 'deviceImages.create'])
    expect(new Set(seen.slice(2))).toEqual(new Set(['deviceImages.get']))
  })

  it('sends exactly the three create properties and the required headers on every request', async () => {
    const e = await start({ defaultUpload: [{ pendingMs: 50, outcome: 'ready' }] })
    await runInProcess(baseInputs(e))
    const create = e.requests.find(r => r.route === 'deviceImages.create')!
    expect(JSON.parse(create.body)).toEqual({ displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: SOURCE })
    expect(create.path).toBe('/beta/deviceManagement/virtualEndpoint/deviceImages')
    const ids = new Set<string>()
    for (const request of graph(e)) {
      expect(request.headers.prefer).toBe('include-unknown-enum-members')
      expect(request.headers['user-agent']).toMatch(/^cloudpc-image-action\/\d+\.\d+\.\d+/)
      expect(request.headers['client-request-id']).toMatch(/^[0-9a-f-]{36}$/)
      expect(request.headers.authorization).toMatch(/^Bearer /)
      ids.add(request.headers['client-request-id'])
    }
    expect(ids.size).toBe(graph(e).length)
  })

  it('retries a failed upload and reaches ready: uploadAttempts 2', async () => {
    // On a fake clock the emulator shares, every status is seen whatever the machine's load.
    const clock = new FakeClock()
    const e = await start({
      now: () => clock.now(),
      defaultUpload: [
        { pendingMs: 100, outcome: 'failed', errorCode: 'internalServerError' },
        { pendingMs: 100, outcome: 'ready' }
      ]
    })
    const r = await runInProcess(baseInputs(e), { clock })
    expect(r.code).toBe(0)
    expect(r.outputs).toMatchObject({ status: 'ready', uploadAttempts: '2', result: 'created' })
    expect(routes(e).filter(x => x === 'deviceImages.retryUpload')).toHaveLength(1)
    expect(r.report.timeline.map(t => t.label)).toEqual([
      'created',
      'pending',
      'failed (internalServerError)',
      'retry 1',
      'pending',
      'ready'
    ])
  })

  it('falls back to reupload when retryUpload is not offered, counting one retry', async () => {
    const e = await start({
      knobs: { retryUpload: 'unknownSegment', reupload: 'working' },
      defaultUpload: [
        { pendingMs: 80, outcome: 'failed', errorCode: 'internalServerError' },
        { pendingMs: 80, outcome: 'ready' }
      ]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(r.outputs.uploadAttempts).toBe('2')
    expect(routes(e).filter(x => x.endsWith('retryUpload') || x.endsWith('reupload'))).toEqual([
      'deviceImages.retryUpload',
      'deviceImages.reupload'
    ])
  })

  it('fails at once on a failure a retry cannot fix, with the code and the remedy', async () => {
    const e = await start({ defaultUpload: [{ pendingMs: 80, outcome: 'failed', errorCode: 'sourceImageNotGeneralized' }] })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    expect(routes(e)).not.toContain('deviceImages.retryUpload')
    expect(r.outputs).toMatchObject({
      status: 'failed',
      errorCode: 'sourceImageNotGeneralized',
      uploadAttempts: '1',
      result: 'created'
    })
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Image upload failed: sourceImageNotGeneralized')
    expect(error.message).toMatch(/sysprep/)
    expect(r.summary).toContain('sourceImageNotGeneralized')
  })

  it('waits out reads that still show the failure from before a retry instead of asking again', async () => {
    const e = await start({
      knobs: { staleReadsAfterRetryMs: 400 },
      defaultUpload: [
        { pendingMs: 50, outcome: 'failed', errorCode: 'internalServerError' },
        { pendingMs: 100, outcome: 'ready' }
      ]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(routes(e).filter(x => x === 'deviceImages.retryUpload')).toHaveLength(1)
    expect(r.outputs).toMatchObject({ status: 'ready', uploadAttempts: '2' })
  })

  it('falls back to reupload on the 400 Graph gives for an unknown segment, and names the route even when its answer was lost', async () => {
    const e = await start({
      knobs: { retryUpload: 'unknownSegment', reupload: 'working' },
      faults: [{ method: 'POST', path: /\/reupload$/, times: 1, fault: { kind: 'commitThenDrop' } }],
      defaultUpload: [
        { pendingMs: 50, outcome: 'failed', errorCode: 'internalServerError' },
        { pendingMs: 100, outcome: 'ready' }
      ]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    const retry = graph(e).find(x => x.route === 'deviceImages.retryUpload')!
    expect(retry.status).toBe(400)
    expect(routes(e).filter(x => x === 'deviceImages.reupload')).toHaveLength(1)
    expect(r.outputs.uploadAttempts).toBe('2')
    const info = r.logger.of('info').map(l => l.message)
    expect(info).toContainEqual(expect.stringMatching(/retry the upload with reupload/))
    expect(info).not.toContainEqual(expect.stringMatching(/with retryUpload/))
  })

  it('gives up when the upload retries run out', async () => {
    const e = await start({ defaultUpload: [{ pendingMs: 50, outcome: 'failed', errorCode: 'internalServerError' }] })
    const r = await runInProcess(baseInputs(e, { maxUploadRetries: '1' }))
    expect(r.code).toBe(1)
    expect(routes(e).filter(x => x === 'deviceImages.retryUpload')).toHaveLength(1)
    expect(r.outputs).toMatchObject({ status: 'failed', errorCode: 'internalServerError', uploadAttempts: '2' })
    const [error] = r.logger.of('error')
    expect(error.message).toMatch(/failed again after 1 retry, and no retries are left \(maxUploadRetries: 1\)/)
    // Words true once the action has stopped, and what Microsoft support asks for.
    expect(error.message).not.toMatch(/the action retries/i)
    expect(error.message).toMatch(
      new RegExp(`\\[image ${e.images()[0].id}; request-id: [0-9a-f-]{36}; client-request-id: [0-9a-f-]{36}\\]$`)
    )
    const read = e.requests.filter(x => x.route === 'deviceImages.get').at(-1)!
    expect(error.message).toContain(read.headers['client-request-id'])
  })

  it('times out with the outputs still set and says the upload goes on', async () => {
    const clock = new FakeClock()
    const e = await start({ now: () => clock.now(), defaultUpload: [{ pendingMs: 60_000, outcome: 'ready' }] })
    const r = await runInProcess(baseInputs(e, { timeoutMinutes: '0.01', pollIntervalSeconds: '0.1' }), { clock })
    expect(r.code).toBe(1)
    // Polls until the deadline (0.6 s), the last one on it.
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(600)
    const [image] = e.images()
    expect(r.outputs).toMatchObject({ imageId: image.id, status: 'pending', result: 'created', uploadAttempts: '1' })
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Timed out waiting for the image')
    expect(error.message).toContain(image.id)
    expect(error.message).toMatch(/goes on in the service/)
  })

  it('returns right after the create with wait: false', async () => {
    const e = await start({ defaultUpload: [{ pendingMs: 60_000, outcome: 'ready' }] })
    const r = await runInProcess(baseInputs(e, { wait: 'false' }))
    expect(r.code).toBe(0)
    expect(routes(e)).toEqual(['deviceImages.list', 'deviceImages.create'])
    expect(r.outputs).toMatchObject({ status: 'pending', result: 'created', uploadAttempts: '1' })
    expect(r.logger.of('notice')[0].message).toMatch(/goes on in the service/)
  })

  it('reuses an existing ready image with no write', async () => {
    const e = await start({
      knobs: { imagePageSize: 2 },
      images: [
        { displayName: 'Other', version: '1.0.0', sourceImageResourceId: SOURCE },
        { displayName: 'Other', version: '2.0.0', sourceImageResourceId: SOURCE },
        { displayName: 'WIN11-dev', version: '1.4.0', sourceImageResourceId: SOURCE.toLowerCase(), status: 'ready' }
      ]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(e.writes()).toEqual([])
    expect(r.outputs).toMatchObject({ result: 'reused', status: 'ready', uploadAttempts: '1' })
    expect(r.outputs.imageId).toBe(e.images()[2].id)
    // The third image sits on the second page: the list followed @odata.nextLink.
    expect(routes(e)).toEqual(['deviceImages.list', 'deviceImages.list'])
  })

  it('does not reuse an image of the same name and version built from another source', async () => {
    const other = SOURCE.replace('win11-dev', 'win11-old')
    const e = await start({ images: [{ displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: other }] })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    expect(e.writes()).toEqual([])
    const [error] = r.logger.of('error')
    expect(error.message).toContain(other)
    expect(error.message).toContain(SOURCE)
    expect(error.message).toContain('1.4.1')
  })

  it('shows a Graph error with its code, message and request IDs', async () => {
    const e = await start({
      faults: [{ method: 'POST', path: /deviceImages$/, fault: { kind: 'status', status: 400, code: 'invalidRequest' } }]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    const [error] = r.logger.of('error')
    const create = e.requests.find(x => x.route === 'deviceImages.create')!
    expect(error.message).toMatch(/HTTP 400/)
    expect(error.message).toMatch(/code: invalidRequest/)
    expect(error.message).toContain(`client-request-id: ${create.headers['client-request-id']}`)
    expect(error.message).toMatch(/request-id: [0-9a-f-]{36}/)
    expect(error.message).toMatch(/date: \d{4}-\d{2}-\d{2}T/)
  })

  it('masks the secret and every token, and never prints them', async () => {
    const e = await start({ defaultUpload: [{ pendingMs: 50, outcome: 'ready' }] })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    const tokens = e.requests.filter(x => x.route !== 'token').map(x => x.headers.authorization.replace('Bearer ', ''))
    expect(r.secrets[0]).toBe(CLIENT_SECRET)
    for (const token of new Set(tokens)) expect(r.secrets).toContain(token)
    const everything = r.logger.text() + JSON.stringify(r.outputs) + r.summary
    for (const secret of [CLIENT_SECRET, ...tokens]) expect(everything).not.toContain(secret)
  })
})

describe('HTTP behaviour against the emulator', () => {
  it('honours Retry-After on a throttled read', async () => {
    const clock = new FakeClock()
    const e = await start({
      now: () => clock.now(),
      defaultUpload: [{ pendingMs: 50, outcome: 'ready' }],
      faults: [{ method: 'GET', path: /deviceImages$/, fault: { kind: 'status', status: 429, retryAfter: '1' } }]
    })
    const r = await runInProcess(baseInputs(e), { clock })
    expect(r.code).toBe(0)
    const lists = e.requests.filter(x => x.route === 'deviceImages.list')
    expect(lists.map(x => x.status)).toEqual([429, 200])
    expect(lists[1].time - lists[0].time).toBe(1000)
    expect(clock.sleeps[0]).toBe(1000)
    expect(r.logger.of('info').map(l => l.message)).toContainEqual(
      expect.stringMatching(/HTTP 429; retrying in 1\.0s \(attempt 2, request-id /)
    )
  })

  it.each([
    ['answers 504 after creating', { kind: 'commitThenStatus', status: 504 } as const],
    ['drops the connection after creating', { kind: 'commitThenDrop' } as const]
  ])('adopts the image when the create %s, never creating a second', async (_name, fault) => {
    const e = await start({
      defaultUpload: [{ pendingMs: 50, outcome: 'ready' }],
      faults: [{ method: 'POST', path: /deviceImages$/, fault }]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(e.images()).toHaveLength(1)
    expect(routes(e).filter(x => x === 'deviceImages.create')).toHaveLength(1)
    expect(routes(e).slice(0, 3)).toEqual(['deviceImages.list', 'deviceImages.create', 'deviceImages.list'])
    expect(r.outputs).toMatchObject({ result: 'created', status: 'ready', imageId: e.images()[0].id })
  })

  it('creates again when the create was lost before it took effect', async () => {
    const e = await start({
      defaultUpload: [{ pendingMs: 50, outcome: 'ready' }],
      faults: [{ method: 'POST', path: /deviceImages$/, fault: { kind: 'drop' } }]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(e.images()).toHaveLength(1)
    expect(routes(e).filter(x => x === 'deviceImages.create')).toHaveLength(2)
  })

  it('retries a create answered 503, which the service did not act on', async () => {
    const e = await start({
      defaultUpload: [{ pendingMs: 50, outcome: 'ready' }],
      faults: [{ method: 'POST', path: /deviceImages$/, fault: { kind: 'status', status: 503 } }]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(e.images()).toHaveLength(1)
    expect(routes(e).slice(0, 3)).toEqual(['deviceImages.list', 'deviceImages.create', 'deviceImages.create'])
  })

  it('renews short-lived tokens during the wait', async () => {
    const e = await start({ tokenLifetimeSeconds: 1, defaultUpload: [{ pendingMs: 2500, outcome: 'ready' }] })
    const r = await runInProcess(baseInputs(e, { pollIntervalSeconds: '0.2' }))
    expect(r.code).toBe(0)
    expect(e.requests.filter(x => x.route === 'token').length).toBeGreaterThanOrEqual(3)
    expect(graph(e).every(x => x.status !== 401)).toBe(true)
  })

  it('renews once and repeats once when Graph answers 401', async () => {
    const e = await start({ defaultUpload: [{ pendingMs: 400, outcome: 'ready' }] })
    const done = runInProcess(baseInputs(e, { pollIntervalSeconds: '0.1' }))
    await new Promise(resolve => setTimeout(resolve, 200))
    e.revokeTokens()
    const r = await done
    expect(r.code).toBe(0)
    // The Graph token, and its one renewal; the preflight's ARM token is asked for apart.
    const graphTokens = e.requests.filter(
      x => x.route === 'token' && new URLSearchParams(x.body).get('scope') === `${e.url}/.default`
    )
    expect(graphTokens).toHaveLength(2)
    expect(graph(e).filter(x => x.status === 401)).toHaveLength(1)
  })
})
