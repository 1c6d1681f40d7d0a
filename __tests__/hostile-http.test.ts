// The one HTTP path against servers that answer badly on purpose: redirects to another server,
// bodies too large or endless, answers that trickle or stall, and an endpoint on IPv6 loopback.
// Every server is a real one on loopback; nothing of the HTTP layer is mocked.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from '@jest/globals'
import { ArmClient, ArmUnreachableError } from '../src/http/arm-client.js'
import { type Clock, systemClock } from '../src/core/clock.js'
import { createTokenProvider, type TokenProvider } from '../src/http/credentials.js'
import { ActionError, DeadlineError, OutcomeUnknownError } from '../src/core/errors.js'
import { GraphClient } from '../src/graph/client.js'
import { ANSWER_MAX_BYTES, ERROR_BODY_MAX_BYTES, LOCATION_SHOWN_CHARS } from '../src/http/http-limits.js'
import { Requester } from '../src/http/requester.js'
import type { RetryOptions } from '../src/http/retry-policy.js'
import { FakeClock } from './helpers/fake-clock.js'
import { RecordingLogger } from './helpers/recording-logger.js'
import { guid } from './helpers/ids.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void
interface Listening {
  url: string
  /** Every request the server received, as "METHOD path". */
  requests: string[]
}

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    // The trickling and silent answers never end on their own.
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  }
})

async function listen(handler: Handler, host = '127.0.0.1'): Promise<Listening> {
  const requests: string[] = []
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    // A client that gives up on an answer resets the connection under the server's writes.
    res.on('error', () => undefined)
    req.resume()
    handler(req, res)
  })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, host, resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, requests }
}

/** Writes `total` bytes of JSON whitespace inside `{"value":[ ]}` (valid JSON, as large as asked), or for ever. */
function stream(res: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, ' ')
  let sent = 0
  res.write('{"value":[')
  const pump = (): void => {
    while (sent < total) {
      sent += chunk.length
      if (!res.write(chunk)) return void res.once('drain', pump)
    }
    res.end(']}')
  }
  pump()
}

const tokens: TokenProvider = {
  description: 'test token',
  renewable: false,
  getToken: async () => 'graph-token',
  invalidate: () => undefined,
  expiresAt: () => undefined
}

function requester(
  retry: RetryOptions = { baseDelayMs: 1, maxDelayMs: 1, stepBudgetMs: 5 },
  clock: Clock = new FakeClock(),
  requestTimeoutMs?: number
): Requester {
  return new Requester({ clock, logger: new RecordingLogger(), retry, requestTimeoutMs })
}

function graph(url: string, r: Requester = requester()): GraphClient {
  return new GraphClient({ graphEndpoint: url, tokens, requester: r, logger: new RecordingLogger() })
}

const MB50 = 50_000_000

describe('no request follows a redirect', () => {
  /** A server that answers every request with `status` and a Location on another server of the same host. */
  async function redirecting(status: number, location?: (elsewhere: string) => string) {
    const elsewhere = await listen((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'))
    const target = `${elsewhere.url}/beta/deviceManagement/virtualEndpoint/deviceImages`
    const redirect = await listen((_req, res) => res.writeHead(status, { Location: location?.(target) ?? target }).end())
    return { redirect, elsewhere, target }
  }

  it.each([301, 302, 307, 308])('a Graph GET answered %i fails at once, naming the status and the Location', async status => {
    const { redirect, elsewhere, target } = await redirecting(status)
    const error = await graph(redirect.url)
      .get('/deviceManagement/virtualEndpoint/deviceImages/x')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ActionError)
    expect((error as Error).message).toContain(`HTTP ${status} redirect (Location "${target}"), not followed`)
    expect(redirect.requests).toHaveLength(1)
    expect(elsewhere.requests).toEqual([])
  })

  it.each(['POST', 'PATCH', 'DELETE'] as const)('a %s answered 307 is final, not an unknown outcome', async method => {
    const { redirect, elsewhere } = await redirecting(307)
    const error = await graph(redirect.url)
      .request({ method, path: '/deviceManagement/virtualEndpoint/deviceImages/x', body: method === 'DELETE' ? undefined : {} })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ActionError)
    expect(error).not.toBeInstanceOf(OutcomeUnknownError)
    expect((error as Error).message).toContain('HTTP 307 redirect')
    expect(redirect.requests).toHaveLength(1)
    expect(elsewhere.requests).toEqual([])
  })

  it('does not post the client secret on to where a token endpoint redirects', async () => {
    const { redirect, elsewhere } = await redirecting(307)
    const provider = createTokenProvider(
      { kind: 'clientSecret', tenantId: 'tenant', clientId: 'client', clientSecret: 'secret-never-to-leave' },
      { resource: redirect.url, authorityHost: redirect.url },
      {
        clock: new FakeClock(),
        logger: new RecordingLogger(),
        setSecret: () => undefined,
        getIDToken: async () => 'unused',
        runAz: async () => ({ ok: false, missing: true, message: 'unused' }),
        requester: requester()
      }
    )
    const error = await provider.getToken().catch((e: unknown) => e)
    expect(error).toMatchObject({ title: 'Sign-in failed', message: expect.stringContaining('HTTP 307 redirect') })
    expect(redirect.requests).toEqual(['POST /tenant/oauth2/v2.0/token'])
    expect(elsewhere.requests).toEqual([])
  })

  it('does not send the ARM token on to where Azure Resource Manager redirects', async () => {
    const { redirect, elsewhere } = await redirecting(302)
    const arm = new ArmClient({ armEndpoint: redirect.url, tokens, requester: requester(), logger: new RecordingLogger() })
    const error = await arm
      .get('/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/images/i', '2024-07-01', Infinity)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ArmUnreachableError)
    expect((error as Error).message).toContain('HTTP 302 redirect')
    expect(redirect.requests).toHaveLength(1)
    expect(elsewhere.requests).toEqual([])
  })

  it('shows only the start of a long Location, and only printable characters of it', async () => {
    const { redirect } = await redirecting(307, target => `${target}/${'a'.repeat(5000)}`)
    const message = await graph(redirect.url)
      .get('/x')
      .catch((e: unknown) => (e as Error).message)
    const shown = /Location "([^"]*)"/.exec(message as string)![1]
    expect(shown).toHaveLength(LOCATION_SHOWN_CHARS + 1)
    expect(shown.endsWith('a…')).toBe(true)
  })
})

describe('answers are bounded in size', () => {
  const get = (url: string, r?: Requester) => graph(url, r).get('/deviceManagement/virtualEndpoint/deviceImages/x')
  // One attempt: the deadline is reached as soon as it fails.
  const once = () => requester({ baseDelayMs: 1, maxDelayMs: 1, stepBudgetMs: 0 })

  it('refuses a 50 MB entity that declares its length, before reading it', async () => {
    const s = await listen((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': MB50 + 12 })
      stream(res, MB50)
    })
    const error = await get(s.url, once()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeadlineError)
    expect((error as Error).message).toContain('HTTP 200 with a body larger than 1 MiB, the limit for a single entity')
  })

  it('stops reading a 50 MB chunked entity at its limit', async () => {
    const s = await listen((_req, res) => stream(res.writeHead(200, { 'Content-Type': 'application/json' }), MB50))
    const error = await get(s.url, once()).catch((e: unknown) => e)
    expect((error as Error).message).toContain('larger than 1 MiB, the limit for a single entity')
  })

  it('stops reading an endless chunked answer at its limit', async () => {
    const s = await listen((_req, res) => stream(res.writeHead(200, { 'Content-Type': 'application/json' }), Infinity))
    const error = await get(s.url, once()).catch((e: unknown) => e)
    expect((error as Error).message).toContain('larger than 1 MiB, the limit for a single entity')
  })

  it('refuses a 50 MB list page', async () => {
    const s = await listen((_req, res) => stream(res.writeHead(200, { 'Content-Type': 'application/json' }), MB50))
    const error = await graph(s.url, once())
      .list('/deviceManagement/virtualEndpoint/cloudPCs')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeadlineError)
    expect((error as Error).message).toContain('larger than 40 MiB, the limit for a list page')
  })

  it('reads a list page of 10,000 Cloud PCs with every field of the beta entity', async () => {
    // About 2.5 KB each: what Graph answers for a Cloud PC when $select is not honoured.
    const pc = (n: number) => ({
      id: guid('cccccccc', n),
      displayName: `CPC-user${n}-AB12CD`,
      imageDisplayName: 'Win11-Dev 1.4.0',
      managedDeviceId: guid('dddddddd', n),
      managedDeviceName: `CPC-user${n}-AB12CD`,
      provisioningPolicyId: 'aaaaaaaa-0000-4000-8000-000000000001',
      provisioningPolicyName: 'Developers',
      onPremisesConnectionName: 'Azure network connection, West Europe',
      servicePlanId: 'bbbbbbbb-0000-4000-8000-000000000001',
      servicePlanName: 'Cloud PC Enterprise 8vCPU/32GB/512GB',
      servicePlanType: 'enterprise',
      status: 'provisioned',
      userPrincipalName: `user${n}@contoso.onmicrosoft.com`,
      lastModifiedDateTime: '2026-11-23T10:00:00Z',
      statusDetails: null,
      gracePeriodEndDateTime: null,
      provisioningType: 'dedicated',
      diskEncryptionState: 'encryptedUsingPlatformManagedKey',
      aadDeviceId: guid('eeeeeeee', n),
      deviceRegionName: 'westeurope',
      lastRemoteActionResult: {
        actionName: 'reprovision',
        actionState: 'done',
        startDateTime: '2026-11-20T10:00:00Z',
        lastUpdatedDateTime: '2026-11-20T11:00:00Z',
        cloudPcId: guid('cccccccc', n),
        managedDeviceId: guid('dddddddd', n),
        statusDetail: { code: null, message: null, additionalInformation: [] }
      },
      connectivityResult: { status: 'available', updatedDateTime: '2026-11-23T09:00:00Z', failedHealthCheckItems: [] },
      lastLoginResult: { time: '2026-11-22T08:00:00Z' },
      partnerAgentInstallResults: [],
      powerState: 'running',
      userAccountType: 'standardUser',
      productType: 'enterprise',
      allotmentDisplayName: null,
      osVersion: 'windows11',
      provisionedDateTime: '2026-11-20T11:00:00Z',
      sharedDeviceDetail: null,
      frontlineCloudPcAvailability: 'notApplicable',
      connectionSettings: { enableSingleSignOn: true },
      scopeIds: ['0'],
      notes: 'x'.repeat(800)
    })
    const page = JSON.stringify({ value: Array.from({ length: 10_000 }, (_, n) => pc(n)) })
    expect(page.length).toBeGreaterThan(25_000_000)
    const s = await listen((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(page))
    const listed = await graph(s.url, once()).list<{ id: string }>('/deviceManagement/virtualEndpoint/cloudPCs')
    expect(listed).toHaveLength(10_000)
    expect(ANSWER_MAX_BYTES.listPage).toBeGreaterThan(10_000 * 4000)
  })

  it('retries a read whose answer was too large, within its deadline', async () => {
    let n = 0
    const s = await listen((_req, res) => {
      if (n++ === 0) return stream(res.writeHead(200), MB50)
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"id":"x"}')
    })
    const r = requester({ baseDelayMs: 1000, maxDelayMs: 1000, stepBudgetMs: 60_000 })
    await expect(get(s.url, r)).resolves.toMatchObject({ status: 200, body: { id: 'x' } })
    expect(s.requests).toHaveLength(2)
  })

  it('leaves a write whose answer was too large with an unknown outcome', async () => {
    const s = await listen((_req, res) => stream(res.writeHead(201, { 'Content-Type': 'application/json' }), MB50))
    const error = await graph(s.url)
      .request({ method: 'POST', path: '/deviceManagement/virtualEndpoint/deviceImages', body: {} })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OutcomeUnknownError)
    expect((error as Error).message).toContain('larger than 1 MiB, the limit for a single entity')
    expect(s.requests).toHaveLength(1)
  })

  it('gives an error answer a smaller limit of its own', async () => {
    const s = await listen((_req, res) => res.writeHead(400).end('x'.repeat(ERROR_BODY_MAX_BYTES + 1)))
    const error = await get(s.url, once()).catch((e: unknown) => e)
    expect((error as Error).message).toContain('HTTP 400 with a body larger than 64 KiB, the limit for an error answer')
  })

  it('gives a token answer a smaller limit of its own', async () => {
    const s = await listen((_req, res) =>
      stream(res.writeHead(200, { 'Content-Type': 'application/json' }), 2 * ANSWER_MAX_BYTES.token)
    )
    const provider = createTokenProvider(
      { kind: 'clientSecret', tenantId: 'tenant', clientId: 'client', clientSecret: 'secret' },
      { resource: s.url, authorityHost: s.url },
      {
        clock: new FakeClock(),
        logger: new RecordingLogger(),
        setSecret: () => undefined,
        getIDToken: async () => 'unused',
        runAz: async () => ({ ok: false, missing: true, message: 'unused' }),
        requester: once()
      }
    )
    const error = await provider.getToken().catch((e: unknown) => e)
    expect((error as Error).message).toContain('larger than 256 KiB, the limit for a token answer')
  })
})

describe('an exchange ends by its deadline', () => {
  // Real time: the deadline is what ends these exchanges. The idle time-out is kept long, so that it
  // is not what ends them.
  const realTime = (stepBudgetMs: number, requestTimeoutMs: number) =>
    requester({ baseDelayMs: 100, maxDelayMs: 100, stepBudgetMs }, systemClock, requestTimeoutMs)

  it('ends an answer that trickles a byte at a time, however long it would go on', async () => {
    const s = await listen((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.write('{')
      const timer = setInterval(() => res.write(' '), 200)
      res.on('close', () => clearInterval(timer))
    })
    const error = await get(s.url, realTime(800, 1000)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeadlineError)
    expect((error as Error).message).toMatch(/last answer: no whole answer within [\d.]+s, by the deadline of this request/)
  }, 15_000)

  it('ends an answer that sends its headers and then nothing', async () => {
    const s = await listen((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 100 })
      res.flushHeaders()
    })
    const error = await get(s.url, realTime(800, 1000)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DeadlineError)
    expect((error as Error).message).toMatch(/last answer: (no whole answer within|Request timeout: nothing received for) 1\.0s/)
  }, 15_000)

  it('leaves a write that got no whole answer by its deadline with an unknown outcome', async () => {
    const s = await listen(() => undefined)
    const error = await graph(s.url, realTime(800, 1000))
      .request({ method: 'PATCH', path: '/deviceManagement/virtualEndpoint/provisioningPolicies/p', body: {} })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OutcomeUnknownError)
    expect(s.requests).toHaveLength(1)
  }, 15_000)

  function get(url: string, r: Requester) {
    return graph(url, r).get('/deviceManagement/virtualEndpoint/deviceImages/x')
  }
})

describe('an endpoint on IPv6 loopback', () => {
  it('is reached at http://[::1]:port', async () => {
    const s = await listen((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"id":"x"}'), '::1')
    expect(s.url).toMatch(/^http:\/\/\[::1\]:\d+$/)
    await expect(graph(s.url).get('/deviceManagement/virtualEndpoint/deviceImages/x')).resolves.toMatchObject({
      status: 200,
      body: { id: 'x' }
    })
    expect(s.requests).toEqual(['GET /beta/deviceManagement/virtualEndpoint/deviceImages/x'])
  })
})
