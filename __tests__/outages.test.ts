// Outages, throttling and hostile answers, run on the action's production retry settings under a
// fake clock that the emulator shares: hours of service time pass in milliseconds, exactly.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { GraphClient, MAX_PAGES } from '../src/graph/client.js'
import { Requester } from '../src/http/requester.js'
import { DEFAULT_RETRY } from '../src/http/retry-policy.js'
import { MAX_WRITES } from '../src/http/settle-write.js'
import { FakeClock } from './helpers/fake-clock.js'
import { RecordingLogger } from './helpers/recording-logger.js'
import { baseInputs, runInProcess } from './helpers/run-in-process.js'
import { guid } from './helpers/ids.js'

let emulator: Emulator | undefined
let server: Server | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
  await new Promise(resolve => (server ? server.close(resolve) : resolve(undefined)))
  server = undefined
})

const VE = '/deviceManagement/virtualEndpoint'
const GET_IMAGE = new RegExp(`^${VE}/deviceImages/[^/]+$`)
const TOKEN = /\/oauth2\/v2\.0\/token$/
const P1 = guid('aaaaaaaa', 1)
const P2 = guid('aaaaaaaa', 2)
const MINUTE = 60_000

/** The emulator on the test's fake clock; the action runs on it with its production retry settings. */
async function onFakeTime(options: EmulatorOptions = {}): Promise<{ e: Emulator; clock: FakeClock }> {
  const clock = new FakeClock()
  emulator = await startEmulator({
    defaultUpload: [{ pendingMs: 30 * MINUTE, outcome: 'ready' }],
    ...options,
    now: () => clock.now()
  })
  return { e: emulator, clock }
}

/** Realistic timings: a poll a minute, two hours to wait. */
function realInputs(e: Emulator, overrides: Record<string, string> = {}): Record<string, string> {
  return baseInputs(e, { pollIntervalSeconds: '60', timeoutMinutes: '120', ...overrides })
}

const production = (clock: FakeClock) => ({ clock, retry: DEFAULT_RETRY })

function policies(n: number) {
  return Array.from({ length: n }, (_, i) => ({ id: guid('aaaaaaaa', i + 1), displayName: `Policy ${i + 1}` }))
}

describe('an outage during the wait is ridden out until the deadline', () => {
  it('keeps waiting through ten minutes of 503s on the status read', async () => {
    const { e, clock } = await onFakeTime({
      faults: [{ method: 'GET', path: GET_IMAGE, skip: 1, times: 12, fault: { kind: 'status', status: 503 } }]
    })
    const r = await runInProcess(realInputs(e), production(clock))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(r.outputs.status).toBe('ready')
    const failed = e.requests.filter(x => x.route === 'deviceImages.get' && x.status === 503)
    expect(failed).toHaveLength(12)
    // More than one request's worth of retries used to allow: at least six minutes of outage.
    expect(failed[11].time - failed[0].time).toBeGreaterThan(6 * MINUTE)
  })

  it('keeps waiting through an outage of the token endpoint when the token is renewed', async () => {
    const { e, clock } = await onFakeTime({
      tokenLifetimeSeconds: 600,
      faults: [{ method: 'POST', path: TOKEN, skip: 1, times: 12, fault: { kind: 'status', status: 503 } }]
    })
    const r = await runInProcess(realInputs(e), production(clock))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(e.requests.filter(x => x.route === 'token' && x.status === 503)).toHaveLength(12)
  })

  it('ends as a time-out, at the deadline, when the token endpoint stays down', async () => {
    const { e, clock } = await onFakeTime({
      tokenLifetimeSeconds: 600,
      // The Graph token and the preflight's ARM token are issued; every renewal fails.
      faults: [{ method: 'POST', path: TOKEN, skip: 2, times: Infinity, fault: { kind: 'status', status: 503 } }]
    })
    const started = clock.now()
    const r = await runInProcess(realInputs(e, { timeoutMinutes: '60' }), production(clock))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Timed out waiting for the image',
      message: expect.stringMatching(/token request .*HTTP 503.*upload goes on in the service/)
    })
    expect(r.report.outcome).toBe('timedOut')
    const tokens = e.requests.filter(x => x.route === 'token')
    // The last token request falls on the wait's deadline, not after it.
    expect(tokens.at(-1)!.time - started).toBeLessThanOrEqual(60 * MINUTE + MINUTE)
    expect(tokens.at(-1)!.time - started).toBeGreaterThanOrEqual(59 * MINUTE)
  })

  it('says what the token endpoint answered when its body is not an Entra error', async () => {
    const { e, clock } = await onFakeTime({
      faults: [{ method: 'POST', path: TOKEN, fault: { kind: 'status', status: 400, code: 'gatewayRefused' } }]
    })
    const r = await runInProcess(realInputs(e), production(clock))
    expect(r.code).toBe(1)
    const [error] = r.logger.of('error')
    expect(error.message).toMatch(/^The token endpoint answered HTTP 400: no description/)
    expect(error.message).not.toContain('[object Object]')
  })
})

describe('a throttle longer than the deadline stops the step at once', () => {
  it('fails a create told to retry after a day, saying so, with outputs and summary', async () => {
    const { e, clock } = await onFakeTime({
      faults: [
        { method: 'POST', path: new RegExp(`${VE}/deviceImages$`), fault: { kind: 'status', status: 429, retryAfter: '86400' } }
      ]
    })
    const r = await runInProcess(realInputs(e), production(clock))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Throttled',
      message: expect.stringMatching(
        /POST \/deviceManagement\/virtualEndpoint\/deviceImages .*throttled the request and asked to wait 24h 0m \(Retry-After\), longer than the 10m 0s left/
      )
    })
    expect(Math.max(...clock.sleeps)).toBeLessThan(MINUTE)
    expect(e.images()).toEqual([])
    expect(r.outputs).toMatchObject({ updatedPolicyIds: '[]' })
    expect(r.summary).toContain('Throttled')
  })

  it('ends the wait as a time-out when a status read is throttled past its deadline', async () => {
    const { e, clock } = await onFakeTime({
      faults: [
        { method: 'GET', path: GET_IMAGE, skip: 1, times: Infinity, fault: { kind: 'status', status: 429, retryAfter: '3600' } }
      ]
    })
    const r = await runInProcess(realInputs(e, { timeoutMinutes: '30' }), production(clock))
    expect(r.code).toBe(1)
    expect(r.report.outcome).toBe('timedOut')
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Timed out waiting for the image',
      message: expect.stringMatching(/asked to wait 1h 0m .*upload goes on in the service/)
    })
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(MINUTE)
  })

  it('ends the wait as a time-out when the upload retry is throttled past the deadline', async () => {
    const { e, clock } = await onFakeTime({
      defaultUpload: [
        { pendingMs: 5 * MINUTE, outcome: 'failed', errorCode: 'internalServerError' },
        { pendingMs: 5 * MINUTE, outcome: 'ready' }
      ],
      faults: [{ method: 'POST', path: /\/retryUpload$/, fault: { kind: 'status', status: 429, retryAfter: '3600' } }]
    })
    const r = await runInProcess(realInputs(e, { timeoutMinutes: '30' }), production(clock))
    expect(r.code).toBe(1)
    expect(r.report.outcome).toBe('timedOut')
    expect(r.logger.of('error')[0].title).toBe('Timed out waiting for the image')
  })

  it('fails a request outside the wait at the end of its ten-minute budget, saying what it got', async () => {
    const { e, clock } = await onFakeTime({
      faults: [
        { method: 'GET', path: new RegExp(`${VE}/deviceImages$`), times: Infinity, fault: { kind: 'status', status: 503 } }
      ]
    })
    const r = await runInProcess(realInputs(e), production(clock))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Deadline reached',
      message: expect.stringMatching(
        /GET \/deviceManagement\/virtualEndpoint\/deviceImages kept failing until the deadline of this step, 10m 0s after its first attempt \(last answer: HTTP 503, request-id [0-9a-f-]{36}; attempt \d+\)/
      )
    })
    const lists = e.requests.filter(x => x.route === 'deviceImages.list')
    expect(lists.at(-1)!.time - lists[0].time).toBe(10 * MINUTE)
    // Backoff grows to its cap: a dozen requests in ten minutes, not thousands.
    expect(lists.length).toBeGreaterThan(6)
    expect(lists.length).toBeLessThan(20)
  })
})

describe('paging is bounded', () => {
  it('stops a list whose next link points back at itself', async () => {
    const { e, clock } = await onFakeTime()
    const self = `${e.url}/beta${VE}/deviceImages?$skiptoken=again`
    e.addFault({
      method: 'GET',
      path: new RegExp(`${VE}/deviceImages$`),
      times: Infinity,
      fault: { kind: 'malformed', status: 200, body: JSON.stringify({ value: [], '@odata.nextLink': self }) }
    })
    const r = await runInProcess(realInputs(e), production(clock))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Unexpected Graph answer',
      message: expect.stringMatching(/next page link it had already returned/)
    })
    expect(e.requests.filter(x => x.route === 'deviceImages.list')).toHaveLength(2)
  })

  it(`stops a list after ${MAX_PAGES} pages`, async () => {
    let pages = 0
    server = createServer((req, res) => {
      pages++
      const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? 0)
      const next = `http://127.0.0.1:${(server!.address() as AddressInfo).port}/beta/items?page=${n + 1}`
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ value: [n], '@odata.nextLink': next }))
    })
    await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve))
    const logger = new RecordingLogger()
    const client = new GraphClient({
      graphEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      logger,
      requester: new Requester({ clock: new FakeClock(), logger }),
      tokens: {
        description: 'test',
        renewable: false,
        getToken: async () => 't',
        invalidate: () => undefined,
        expiresAt: () => undefined
      }
    })
    await expect(client.list('/items')).rejects.toThrow(`more than ${MAX_PAGES} pages`)
    expect(pages).toBe(MAX_PAGES)
  })
})

describe('the roll-out keeps what it knows', () => {
  it('reports the policies it changed when settling another one fails', async () => {
    const { e, clock } = await onFakeTime({
      defaultUpload: [{ pendingMs: MINUTE, outcome: 'ready' }],
      policies: policies(2),
      faults: [
        { method: 'PATCH', path: `${VE}/provisioningPolicies/${P1}`, fault: { kind: 'commitThenDrop' } },
        // The read that would settle it is refused (the check before the publish and the read just
        // before the PATCH come first).
        {
          method: 'GET',
          path: `${VE}/provisioningPolicies/${P1}`,
          skip: 2,
          times: Infinity,
          fault: { kind: 'status', status: 403 }
        }
      ]
    })
    const r = await runInProcess(realInputs(e, { provisioningPolicyIds: `${P1},${P2}` }), production(clock))
    expect(r.code).toBe(1)
    expect(JSON.parse(r.outputs.updatedPolicyIds)).toEqual([P2])
    expect(e.policies().every(p => p.imageId === e.images()[0].id)).toBe(true)
    expect(r.logger.of('error')[0]).toMatchObject({ title: 'Roll-out incomplete', message: expect.stringContaining(P1) })
  })

  it('checks that the service filters Cloud PCs by policy before changing anything', async () => {
    const { e, clock } = await onFakeTime({ policies: policies(1), knobs: { filter: 'reject' } })
    const r = await runInProcess(realInputs(e, { provisioningPolicyIds: P1, reprovision: 'true' }), production(clock))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0].message).toMatch(/Filter/)
    expect(e.writes()).toEqual([])
  })

  it('sends every write the same number of times when its answers keep getting lost', async () => {
    const { e, clock } = await onFakeTime({
      defaultUpload: [{ pendingMs: MINUTE, outcome: 'ready' }],
      policies: policies(1),
      faults: [{ method: 'PATCH', path: `${VE}/provisioningPolicies/${P1}`, times: Infinity, fault: { kind: 'drop' } }]
    })
    const r = await runInProcess(realInputs(e, { provisioningPolicyIds: P1 }), production(clock))
    expect(r.code).toBe(1)
    expect(e.writes().filter(x => x.method === 'PATCH')).toHaveLength(MAX_WRITES)

    await emulator!.close()
    const again = await onFakeTime({
      faults: [{ method: 'POST', path: new RegExp(`${VE}/deviceImages$`), times: Infinity, fault: { kind: 'drop' } }]
    })
    const r2 = await runInProcess(realInputs(again.e), production(again.clock))
    expect(r2.code).toBe(1)
    expect(again.e.writes().filter(x => x.route === 'deviceImages.create')).toHaveLength(MAX_WRITES)
  })
})

describe('cancellation, in process', () => {
  it('counts the Cloud PCs it did not reach as cancelled, not failed', async () => {
    const pcs = Array.from({ length: 12 }, (_, i) => ({
      id: guid('cccccccc', i + 1),
      displayName: `CPC-${i + 1}`,
      provisioningPolicyId: P1
    }))
    emulator = await startEmulator({
      defaultUpload: [{ pendingMs: 0, outcome: 'ready' }],
      policies: policies(1),
      cloudPcs: pcs,
      faults: [{ method: 'POST', path: /\/reprovision$/, times: Infinity, fault: { kind: 'delay', ms: 50 } }]
    })
    const e = emulator
    const controller = new AbortController()
    const watch = setInterval(() => {
      if (e.requests.some(x => x.route === 'cloudPcs.reprovision')) controller.abort()
    }, 2)
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: P1, reprovision: 'true' }), {
      signal: controller.signal
    }).finally(() => clearInterval(watch))
    expect(r.code).toBe(1)
    expect(r.report.outcome).toBe('cancelled')
    expect(r.logger.of('error')[0]).toMatchObject({ title: 'Cancelled', message: expect.stringMatching(/during the roll-out/) })
    const results = r.report.cloudPcs!.map(pc => pc.result)
    expect(results).not.toContain('failed')
    expect(results.filter(x => x === 'cancelled').length).toBeGreaterThan(0)
    expect(results.filter(x => x === 'notStarted').length).toBeGreaterThan(0)
    expect(r.summary).toMatch(/0 reprovisioned \(seen provisioned again\), \d+ requested, not seen finished, \d+ not started\./)
    // Nothing was seen finished; those not started are left alone, and none counts as failed.
    expect(r.outputs.reprovisionedCloudPcIds).toBe('[]')
    expect(r.outputs.reprovisionFailedCloudPcIds).toBe('[]')
    for (const id of JSON.parse(r.outputs.reprovisionSkippedCloudPcIds) as string[]) expect(e.reprovisionCount(id)).toBe(0)
    expect(JSON.parse(r.outputs.updatedPolicyIds)).toEqual([P1])
  })

  it('stops retrying the token request when cancelled', async () => {
    emulator = await startEmulator({
      faults: [{ method: 'POST', path: TOKEN, times: Infinity, fault: { kind: 'status', status: 503 } }]
    })
    const e = emulator
    const controller = new AbortController()
    const watch = setInterval(() => {
      if (e.requests.some(x => x.route === 'token')) controller.abort()
    }, 2)
    const r = await runInProcess(baseInputs(e), { signal: controller.signal }).finally(() => clearInterval(watch))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0].title).toBe('Cancelled')
    expect(e.requests.filter(x => x.route === 'token').length).toBeLessThanOrEqual(2)
  })

  it('stops the wait, saying the upload goes on', async () => {
    const { e, clock } = await onFakeTime()
    const controller = new AbortController()
    const sleep = clock.sleep.bind(clock)
    // Cancelled from inside the wait, after three polls of fake time.
    clock.sleep = async (ms: number) => {
      await sleep(ms)
      if (clock.sleeps.length === 3) controller.abort()
    }
    const r = await runInProcess(realInputs(e), { ...production(clock), signal: controller.signal })
    expect(r.code).toBe(1)
    expect(r.report.outcome).toBe('cancelled')
    expect(r.logger.of('error')[0].message).toMatch(/pending; the upload goes on in the service/)
    expect(r.outputs).toMatchObject({ status: 'pending', result: 'created' })
  })
})
