// The one HTTP path against servers that answer badly on purpose (redirects to another server),
// and an endpoint on IPv6 loopback.
// Every server is a real one on loopback; nothing of the HTTP layer is mocked.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from '@jest/globals'
import { ArmClient, ArmUnreachableError } from '../src/arm-client.js'
import type { Clock } from '../src/clock.js'
import { createTokenProvider, type TokenProvider } from '../src/credentials.js'
import { ActionError, OutcomeUnknownError } from '../src/errors.js'
import { GraphClient } from '../src/graph-client.js'
import { LOCATION_SHOWN_CHARS } from '../src/http-limits.js'
import { Requester } from '../src/requester.js'
import type { RetryOptions } from '../src/retry-policy.js'
import { FakeClock } from './helpers/fake-clock.js'
import { RecordingLogger } from './helpers/recording-logger.js'

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
