// The one retry path, against a loopback server that answers as each test scripts it, on a clock
// the test moves by hand.
import { createServer, type Server } from 'node:http'
import { getEventListeners } from 'node:events'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from '@jest/globals'
import { CancelledError, OutcomeUnknownError, ThrottledError } from '../src/core/errors.js'
import { classifyNetworkError, Requester, type Tried } from '../src/http/requester.js'
import { ManualClock } from './helpers/manual-clock.js'
import { RecordingLogger } from './helpers/recording-logger.js'

type Answer = { status: number; headers?: Record<string, string> }

/** An exchange whose deadline is too far to matter. */
const FAR = { deadline: Infinity, answer: 'entity' } as const

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => new Promise(resolve => s.close(resolve))))
})

/** A server that answers each request with the next scripted answer (the last one repeats). */
async function serve(...answers: Answer[]): Promise<{ url: string; hits: number[] }> {
  const hits: number[] = []
  const server = createServer((_req, res) => {
    const answer = answers[Math.min(hits.length, answers.length - 1)]
    hits.push(answer.status)
    res.writeHead(answer.status, answer.headers ?? {})
    res.end()
  })
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, hits }
}

function requester(clock: ManualClock, signal?: AbortSignal): Requester {
  return new Requester({
    clock,
    logger: new RecordingLogger(),
    signal,
    retry: { baseDelayMs: 1000, maxDelayMs: 4000, stepBudgetMs: 60_000 },
    random: () => 0.5
  })
}

/** One GET or POST through the retry path; a 2xx is done. */
function send(r: Requester, url: string, kind: 'read' | 'write' = 'read', deadline?: number): Promise<number> {
  const method = kind === 'read' ? 'GET' : 'POST'
  return r.retrying({ kind, method, path: '/x', url, deadline }, async (): Promise<Tried<number>> => {
    const ex = await r.exchange(method, url, null, {}, { deadline: deadline ?? r.stepDeadline(), answer: 'entity' })
    if (ex.kind === 'response' && ex.status < 300) return { kind: 'done', value: ex.status }
    const status = ex.kind === 'response' ? ex.status : 0
    const retryAfter = ex.kind === 'response' ? (ex.headers['retry-after'] as string | undefined) : undefined
    return {
      kind: 'failed',
      attempt: ex.kind === 'response' ? { kind: 'response', status, retryAfter } : { kind: 'network', error: ex.error },
      what: `HTTP ${status}`,
      error: () => new Error(`final ${status}`)
    }
  })
}

/** Lets pending I/O and timers run until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise(resolve => setTimeout(resolve, 2))
  expect(done()).toBe(true)
}

describe('the retry path', () => {
  it('holds every request to the host while one is told to retry after a while', async () => {
    const clock = new ManualClock()
    const throttled = await serve({ status: 429, headers: { 'Retry-After': '5' } }, { status: 200 })
    const r = requester(clock)
    const first = send(r, throttled.url)
    await until(() => clock.sleeping === 1)
    // A second request to the same host now waits, without being sent.
    const other = await serve({ status: 200 })
    const second = send(r, throttled.url.replace(/\/x$/, '/y'))
    await until(() => clock.sleeping === 2)
    expect(throttled.hits).toEqual([429])
    // A request to another host is not held.
    await expect(send(r, other.url)).resolves.toBe(200)
    clock.advance(5000)
    await expect(Promise.all([first, second])).resolves.toEqual([200, 200])
    expect(throttled.hits).toEqual([429, 200, 200])
  })

  it('holds only the request itself on a backoff the service did not name', async () => {
    const clock = new ManualClock()
    const s = await serve({ status: 503 }, { status: 200 })
    const r = requester(clock)
    const first = send(r, s.url)
    await until(() => clock.sleeping === 1)
    const other = await serve({ status: 200 })
    await expect(send(r, other.url)).resolves.toBe(200)
    // Same host, no Retry-After: not held back.
    const second = send(r, s.url)
    await expect(second).resolves.toBe(200)
    expect(clock.sleeping).toBe(1)
    clock.advance(1000)
    await expect(first).resolves.toBe(200)
  })

  it.each(['-1', 'soon'])('holds no other request on a Retry-After it cannot read (%s), and backs off', async retryAfter => {
    const clock = new ManualClock()
    const s = await serve({ status: 429, headers: { 'Retry-After': retryAfter } }, { status: 200 })
    const r = requester(clock)
    const first = send(r, s.url)
    await until(() => clock.sleeping === 1)
    await expect(send(r, s.url)).resolves.toBe(200)
    expect(clock.sleeping).toBe(1)
    // The backoff of a first attempt with jitter 0.5: 750 ms.
    clock.advance(749)
    expect(clock.sleeping).toBe(1)
    clock.advance(1)
    await expect(first).resolves.toBe(200)
    expect(s.hits).toEqual([429, 200, 200])
  })

  it('fails a request at once when the hold ends past its deadline', async () => {
    const clock = new ManualClock()
    const s = await serve({ status: 429, headers: { 'Retry-After': '30' } }, { status: 200 })
    const r = requester(clock)
    const first = send(r, s.url)
    await until(() => clock.sleeping === 1)
    const error = await send(r, s.url, 'read', clock.now() + 10_000).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ThrottledError)
    expect((error as ThrottledError).message).toMatch(/asked to wait 30s \(Retry-After\), longer than the 10s left/)
    expect(s.hits).toEqual([429])
    clock.advance(30_000)
    await expect(first).resolves.toBe(200)
  })

  it('stops retrying when cancelled during a pause', async () => {
    const clock = new ManualClock()
    const s = await serve({ status: 503 })
    const controller = new AbortController()
    const r = requester(clock, controller.signal)
    const pending = send(r, s.url).catch((e: unknown) => e)
    await until(() => clock.sleeping === 1)
    controller.abort()
    expect(await pending).toBeInstanceOf(CancelledError)
    expect(s.hits).toEqual([503])
  })

  it('repeats a write the service did not act on, and never one whose outcome is unknown', async () => {
    const clock = new ManualClock()
    const notActed = await serve({ status: 503 }, { status: 204 })
    const r = requester(clock)
    const write = send(r, notActed.url, 'write')
    await until(() => clock.sleeping === 1)
    clock.advance(1000)
    await expect(write).resolves.toBe(204)
    const unknown = await serve({ status: 500 }, { status: 204 })
    await expect(send(r, unknown.url, 'write')).rejects.toBeInstanceOf(OutcomeUnknownError)
    expect(unknown.hits).toEqual([500])
  })

  it('makes its last attempt on the deadline, not after it', async () => {
    const clock = new ManualClock()
    const s = await serve({ status: 503 })
    const r = requester(clock)
    const started = clock.now()
    const pending = send(r, s.url, 'read', started + 2500).catch((e: unknown) => e)
    // Backoff with jitter 0.5: 750 ms, then 1500 ms, then what is left (250 ms) to the deadline.
    for (const step of [750, 1500, 250]) {
      await until(() => clock.sleeping === 1)
      clock.advance(step)
    }
    const error = await pending
    expect((error as Error).message).toMatch(
      /^GET \/x kept failing until the deadline of this step, 2\.5s after its first attempt \(last answer: HTTP 503; attempt 4\)\. The service is down or overloaded/
    )
    expect(s.hits).toHaveLength(4)
    expect(clock.now()).toBe(started + 2500)
  })
})

describe('classifyNetworkError', () => {
  const failure = (code: string, message: string) => Object.assign(new Error(message), { code })

  it.each([
    ['ECONNRESET', 'socket hang up', 'reset'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9', 'reset'],
    ['EPIPE', 'write EPIPE', 'reset'],
    ['', 'socket hang up', 'reset'],
    ['ETIMEDOUT', 'connect ETIMEDOUT', 'timeout'],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND graph.microsft.com', 'unresolved'],
    ['', 'Proxy said: Request timeout', 'other'],
    ['EAI_AGAIN', 'getaddrinfo EAI_AGAIN graph.microsoft.com', 'other']
  ])('%s "%s" → %s', (code, message, expected) => {
    expect(classifyNetworkError(failure(code, message)).error).toBe(expected)
  })

  it('names the reset in its message, and copes with a thrown value that is not an error', () => {
    expect(classifyNetworkError(failure('ECONNRESET', 'read ECONNRESET')).message).toBe('ECONNRESET: read ECONNRESET')
    expect(classifyNetworkError(failure('', 'socket hang up')).message).toBe('connection reset: socket hang up')
    expect(classifyNetworkError(undefined)).toEqual({ kind: 'network', error: 'other', message: 'undefined' })
  })

  it('says a host name that does not exist is a matter of the endpoint input', () => {
    expect(classifyNetworkError(failure('ENOTFOUND', 'getaddrinfo ENOTFOUND graph.microsft.com')).message).toMatch(
      /graph\.microsft\.com \(the host name does not exist: check the endpoint\)/
    )
  })
})

describe('an exchange in flight', () => {
  /** A server that takes requests and never answers them. */
  async function silent(): Promise<{ url: string; server: Server }> {
    const server = createServer(() => undefined)
    servers.push(server)
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, server }
  }

  it('ends at once when the run is cancelled, and leaves no listener on the signal', async () => {
    const { url, server } = await silent()
    const cancel = new AbortController()
    const r = requester(new ManualClock(), cancel.signal)
    const pending = r.exchange('GET', url, null, {}, FAR)
    await new Promise(resolve => setTimeout(resolve, 20))
    cancel.abort()
    await expect(pending).rejects.toBeInstanceOf(CancelledError)
    expect(getEventListeners(cancel.signal, 'abort')).toHaveLength(0)
    // The request the client gave up on would keep the server open.
    server.closeAllConnections()
  })

  it('is not sent once the run is cancelled', async () => {
    const { url, hits } = await serve({ status: 200 })
    const cancel = new AbortController()
    cancel.abort()
    await expect(requester(new ManualClock(), cancel.signal).exchange('GET', url, null, {}, FAR)).rejects.toBeInstanceOf(
      CancelledError
    )
    expect(hits).toEqual([])
  })

  it('removes its listener when it ends normally', async () => {
    const { url } = await serve({ status: 204 })
    const cancel = new AbortController()
    const r = requester(new ManualClock(), cancel.signal)
    for (let i = 0; i < 3; i++)
      expect(await r.exchange('GET', url, null, {}, FAR)).toMatchObject({ kind: 'response', status: 204 })
    expect(getEventListeners(cancel.signal, 'abort')).toHaveLength(0)
  })
})
