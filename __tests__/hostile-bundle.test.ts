// The committed bundle (dist/index.js, run as a child process the way a GitHub runner does) against
// services that answer badly on purpose: the emulator behind a loopback front that passes every
// request on, except the ones it answers with a hostile twist.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { RUN_CONTEXT, runAction, type RunnerResult } from '../scripts/runner.js'
import { baseInputs } from './helpers/run-in-process.js'

let emulator: Emulator | undefined
const servers: Server[] = []
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
  for (const server of servers.splice(0)) {
    // A stalled answer never ends on its own.
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  }
})

const TOKEN_PATH = /\/oauth2\/v2\.0\/token$/
const IMAGES = '/beta/deviceManagement/virtualEndpoint/deviceImages'

/** Answers a request itself and returns true, or returns false to have it passed on. */
type Twist = (req: IncomingMessage, res: ServerResponse) => boolean

interface Front {
  url: string
  /** The requests the twist answered, as "METHOD path". */
  twisted: string[]
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    // The action gives up on some answers, which resets the connection under the server's writes.
    res.on('error', () => undefined)
    handler(req, res)
  })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A server in front of `upstream` that passes every request on unless `twist` answers it. */
async function front(upstream: string, twist: Twist): Promise<Front> {
  const twisted: string[] = []
  const url = await listen((req, res) => {
    if (twist(req, res)) {
      twisted.push(`${req.method} ${req.url}`)
      req.resume()
      return
    }
    const on = request(new URL(req.url ?? '/', upstream), { method: req.method, headers: req.headers }, answer => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    on.on('error', () => res.destroy())
    req.pipe(on)
  })
  return { url, twisted }
}

/** A second server, the one a redirect points at: it must never be reached. */
async function elsewhere(): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = []
  const url = await listen((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}')
  })
  return { url, requests }
}

const matches = (req: IncomingMessage, method: string, path: RegExp) =>
  req.method === method && path.test(new URL(req.url ?? '/', 'http://x').pathname)

/** The emulator behind fronts for Graph with Entra, and for Azure Resource Manager. */
async function hostile(twist: Twist, armTwist: Twist = () => false) {
  emulator = await startEmulator({ defaultUpload: [{ pendingMs: 200, outcome: 'ready' }] })
  const graph = await front(emulator.url, twist)
  const arm = await front(emulator.armUrl, armTwist)
  return { graph, arm, target: { url: graph.url, armUrl: arm.url } }
}

const errors = (result: RunnerResult) => result.stdout.split('\n').filter(line => line.startsWith('::error'))

describe('the bundled action follows no redirect', () => {
  it('does not post the client secret on to where the token endpoint redirects', async () => {
    const away = await elsewhere()
    const { graph, target } = await hostile((req, res) => {
      if (!matches(req, 'POST', TOKEN_PATH)) return false
      res.writeHead(307, { Location: `${away.url}${req.url}` }).end()
      return true
    })
    const result = await runAction({ inputs: baseInputs(target), env: RUN_CONTEXT })
    expect(result.code).toBe(1)
    expect(away.requests).toEqual([])
    expect(graph.twisted).toHaveLength(1)
    expect(errors(result).join('\n')).toContain(`HTTP 307 redirect (Location "${away.url}/`)
    expect(result.summary).not.toBe('')
  })

  it('does not send the Graph token on, nor repeat the create, when a create is redirected', async () => {
    const away = await elsewhere()
    const { graph, target } = await hostile((req, res) => {
      if (!matches(req, 'POST', /\/deviceImages$/)) return false
      res.writeHead(307, { Location: `${away.url}${req.url}` }).end()
      return true
    })
    const result = await runAction({ inputs: baseInputs(target), env: RUN_CONTEXT })
    expect(result.code).toBe(1)
    expect(away.requests).toEqual([])
    expect(graph.twisted).toEqual([`POST ${IMAGES}`])
    expect(emulator!.images()).toEqual([])
    expect(errors(result).join('\n')).toContain('HTTP 307 redirect')
  })

  it('does not send the Graph token on when a read is redirected', async () => {
    const away = await elsewhere()
    const { graph, target } = await hostile((req, res) => {
      if (!matches(req, 'GET', /\/deviceImages$/)) return false
      res.writeHead(302, { Location: `${away.url}${req.url}` }).end()
      return true
    })
    const result = await runAction({ inputs: baseInputs(target), env: RUN_CONTEXT })
    expect(result.code).toBe(1)
    expect(away.requests).toEqual([])
    expect(graph.twisted).toHaveLength(1)
    expect(errors(result).join('\n')).toContain('HTTP 302 redirect')
  })

  it('does not send the ARM token on when Azure Resource Manager redirects', async () => {
    const away = await elsewhere()
    const { arm, target } = await hostile(
      () => false,
      (req, res) => {
        res.writeHead(302, { Location: `${away.url}${req.url}` }).end()
        return true
      }
    )
    const result = await runAction({ inputs: baseInputs(target, { preflight: 'true' }), env: RUN_CONTEXT })
    expect(result.code).toBe(1)
    expect(away.requests).toEqual([])
    expect(arm.twisted).toHaveLength(1)
    expect(emulator!.images()).toEqual([])
    expect(errors(result).join('\n')).toMatch(/title=Preflight could not run::.*HTTP 302 redirect/)
  })
})

describe('the bundled action bounds every answer', () => {
  // The wait's reads have the wait's deadline: a few seconds here.
  const inputs = (target: { url: string; armUrl: string }) => baseInputs(target, { timeoutMinutes: '0.05' })
  const poll = (req: IncomingMessage) => matches(req, 'GET', /\/deviceImages\/[^/]+$/)

  it('ends a read that sends its headers and then nothing by the deadline, and still reports', async () => {
    const { graph, target } = await hostile((req, res) => {
      if (!poll(req)) return false
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 1000 }).flushHeaders()
      return true
    })
    // The idle time-out alone would hold the read for 100 s.
    const result = await runAction({ inputs: inputs(target), env: RUN_CONTEXT, timeoutMs: 60_000 })
    expect(result.signal).toBeNull()
    expect(graph.twisted).toHaveLength(1)
    expect(result.stdout).toMatch(/no whole answer within [\d.]+s, by the deadline of this request/)
    expect(result.outputs).toMatchObject({ imageId: emulator!.images()[0].id, status: 'pending', result: 'created' })
    expect(result.summary).toContain(emulator!.images()[0].id)
  }, 90_000)

  it('refuses a 50 MB answer to a read at the limit of a single entity, and still reports', async () => {
    const chunk = Buffer.alloc(64 * 1024, ' ')
    const { graph, target } = await hostile((req, res) => {
      if (!poll(req)) return false
      res.writeHead(200, { 'Content-Type': 'application/json' })
      let sent = 0
      const pump = (): void => {
        while (sent < 50_000_000) {
          sent += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end('{}')
      }
      pump()
      return true
    })
    const result = await runAction({ inputs: inputs(target), env: RUN_CONTEXT, timeoutMs: 60_000 })
    expect(result.signal).toBeNull()
    expect(graph.twisted.length).toBeGreaterThanOrEqual(1)
    expect(result.stdout).toContain('HTTP 200 with a body larger than 1 MiB, the limit for a single entity')
    expect(result.outputs).toMatchObject({ imageId: emulator!.images()[0].id, status: 'pending', result: 'created' })
    expect(result.summary).toContain(emulator!.images()[0].id)
  }, 90_000)
})

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

describe('the bundled action on IPv6 loopback', () => {
  it('publishes through endpoints at http://[::1]:port', async () => {
    emulator = await startEmulator({ host: '::1', defaultUpload: [{ pendingMs: 200, outcome: 'ready' }] })
    expect(emulator.url).toMatch(/^http:\/\/\[::1\]:\d+$/)
    const result = await runAction({ inputs: baseInputs(emulator), env: RUN_CONTEXT })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.outputs).toMatchObject({ imageId: emulator.images()[0].id, status: 'ready' })
    expect(emulator.requests.map(r => r.route)).toContain('token')
  })
})
