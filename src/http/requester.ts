// The one retry path: every HTTP request the action makes (Graph, Azure Resource Manager and the
// token endpoint alike) is sent here, held by the rate gate of its host, raced against cancellation,
// and repeated as the retry policy decides, never past its deadline. Each exchange is bounded by the
// limits of src/http/http-limits.ts, and no request follows a redirect.

import { type ClientRequest, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { HttpClient } from '@actions/http-client'
import type { Clock } from '../core/clock.js'
import { formatDuration } from '../core/duration.js'
import { CancelledError, DeadlineError, messageOf, OutcomeUnknownError, ThrottledError } from '../core/errors.js'
import {
  ANSWER_LABELS,
  ANSWER_MAX_BYTES,
  type AnswerKind,
  ERROR_BODY_MAX_BYTES,
  formatBytes,
  IDLE_TIMEOUT_MS,
  LAST_ATTEMPT_MAX_MS,
  LOCATION_SHOWN_CHARS
} from './http-limits.js'
import type { Logger } from '../core/logger.js'
import { RateGate } from './rate-gate.js'
import {
  type Attempt,
  decideRetry,
  DEFAULT_RETRY,
  isOutcomeUnknown,
  type NetworkError,
  parseRetryAfter,
  type RequestKind,
  type RetryOptions
} from './retry-policy.js'
import { USER_AGENT } from '../version.js'

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export type Exchange =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined>; text: string }
  | { kind: 'network'; error: NetworkError; message: string }

/** What one attempt came to, as the caller reads the exchange. */
export type Tried<T> =
  | { kind: 'done'; value: T }
  | {
      kind: 'failed'
      attempt: Attempt
      /** The answer in a few words, for the log and the error. */
      what: string
      requestId?: string
      /** The error to throw when this failure is final. */
      error: () => Error
    }

export interface RetriedRequest {
  kind: RequestKind
  method: Method
  /** The path as the log and the errors show it. */
  path: string
  /** Where the request goes: its host's rate gate holds it. */
  url: string
  /** No retry waits past this instant (ms since the epoch); default: the step budget from the first attempt. */
  deadline?: number
}

/** What an exchange is bounded by, besides cancellation. */
export interface ExchangeOptions {
  /** The deadline of the request the exchange serves (ms since the epoch): the exchange ends by it. */
  deadline: number
  /** What a success answers with: sets how large its body may be. */
  answer: AnswerKind
}

export interface RequesterOptions {
  clock: Clock
  logger: Logger
  signal?: AbortSignal
  retry?: RetryOptions
  /** How long an exchange may go without a byte; default IDLE_TIMEOUT_MS. */
  requestTimeoutMs?: number
  random?: () => number
}

/** The longest delay a Node timer holds; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

export class Requester {
  /**
   * One client per scheme, for its agent (which honours the proxy variables) and its User-Agent: a
   * keep-alive client holds the agent of the first scheme it was used with.
   */
  private readonly clients = new Map<string, HttpClient>()
  private readonly gates = new Map<string, RateGate>()
  private readonly retry: RetryOptions

  constructor(private readonly options: RequesterOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY
  }

  private clientFor(url: string): HttpClient {
    const scheme = new URL(url).protocol
    let client = this.clients.get(scheme)
    if (!client)
      this.clients.set(
        scheme,
        (client = new HttpClient(USER_AGENT, [], {
          // Reused connections spare a TLS handshake and a socket per poll. A pooled socket the service
          // has closed can only turn a write into an unknown outcome, which is settled by a read anyway.
          keepAlive: true
        }))
      )
    return client
  }

  /** The deadline of a request that names none: the step budget from now. */
  stepDeadline(): number {
    return this.options.clock.now() + this.retry.stepBudgetMs
  }

  /**
   * Runs `once` until it is done or its failure is final. A write whose outcome is unknown is never
   * repeated here: it ends in `OutcomeUnknownError` for the caller to settle with a read.
   */
  async retrying<T>(request: RetriedRequest, once: (attemptNumber: number) => Promise<Tried<T>>): Promise<T> {
    const { clock, logger } = this.options
    const deadline = request.deadline ?? this.stepDeadline()
    const label = `${request.method} ${request.path}`
    const firstAt = clock.now()
    const gate = this.gateFor(request.url)
    for (let attemptNumber = 1; ; attemptNumber++) {
      this.throwIfCancelled()
      if (!(await gate.pass(deadline, this.options.signal))) {
        this.throwIfCancelled()
        throw new ThrottledError(label, gate.heldForMs(), deadline - clock.now())
      }
      const tried = await once(attemptNumber)
      if (tried.kind === 'done') return tried.value
      const { attempt, what } = tried
      const decision = decideRetry(request.kind, attempt, attemptNumber, clock.now(), deadline, this.retry, this.options.random)
      if (decision.retry) {
        // The service named a time: hold every request to this host until then, not only this one.
        if (attempt.kind === 'response' && parseRetryAfter(attempt.retryAfter, clock.now()) !== undefined)
          gate.holdFor(decision.delayMs)
        logger.info(
          `${label}: ${what}; retrying in ${formatDuration(decision.delayMs)} (attempt ${attemptNumber + 1}${tried.requestId ? `, request-id ${tried.requestId}` : ''}).`
        )
        await clock.sleep(decision.delayMs, this.options.signal)
        continue
      }
      if (isOutcomeUnknown(request.kind, attempt)) throw new OutcomeUnknownError(request.method, request.path, what)
      const last = `${what}${tried.requestId ? `, request-id ${tried.requestId}` : ''}`
      if (decision.reason === 'throttled')
        throw new ThrottledError(`${label} (${last})`, decision.retryAfterMs, deadline - clock.now())
      if (decision.reason === 'deadline')
        throw new DeadlineError(
          `${label} kept failing until the deadline of this step, ${formatDuration(clock.now() - firstAt)} after its first attempt (last answer: ${last}; attempt ${attemptNumber})`
        )
      throw tried.error()
    }
  }

  /**
   * One HTTP exchange; a network failure is an answer too, and so is an answer past a limit. Rejects
   * only on cancellation. The request is sent with Node's own client, through the agent of the
   * HTTP client (which honours the proxy variables), so that nothing follows a redirect and the body
   * is read under a size limit and a timer that ends the exchange by the deadline.
   */
  async exchange(
    method: Method,
    url: string,
    data: string | null,
    headers: OutgoingHttpHeaders,
    options: ExchangeOptions
  ): Promise<Exchange> {
    const signal = this.options.signal
    if (signal?.aborted) throw new CancelledError()
    const target = new URL(url)
    const client = this.clientFor(url)
    const idleMs = this.options.requestTimeoutMs ?? IDLE_TIMEOUT_MS
    // Sockets wait in real time, whatever the clock: the timer runs for what is left of the deadline.
    const left = options.deadline - this.options.clock.now()
    const limitMs = Math.min(MAX_TIMER_MS, Math.max(left, Math.min(idleMs, LAST_ATTEMPT_MAX_MS)))
    return new Promise<Exchange>((resolve, reject) => {
      let request: ClientRequest | undefined
      let ended = false
      // `abandon`: the exchange ends before its answer did, so the socket is dropped, not reused.
      const end = (settle: () => void, abandon: boolean): void => {
        if (ended) return
        ended = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if (abandon) request?.destroy()
        settle()
      }
      const answer = (exchange: Exchange): void => end(() => resolve(exchange), false)
      const fail = (error: NetworkError, message: string): void => end(() => resolve({ kind: 'network', error, message }), true)
      const onAbort = (): void => end(() => reject(new CancelledError()), true)
      const timer = setTimeout(
        () => fail('timeout', `no whole answer within ${formatDuration(limitMs)}, by the deadline of this request`),
        limitMs
      )
      // One listener per request, removed when the request ends: a long wait makes thousands of them.
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
          {
            protocol: target.protocol,
            // A literal IPv6 address keeps its brackets in the URL's hostname; a socket wants it bare.
            host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
            port: target.port || undefined,
            path: `${target.pathname}${target.search}`,
            method,
            headers: {
              ...headers,
              'User-Agent': client.userAgent ?? USER_AGENT,
              ...(data === null ? {} : { 'Content-Length': Buffer.byteLength(data, 'utf8') })
            },
            agent: client.getAgent(url)
          },
          response => readAnswer(response, options.answer, answer, fail)
        )
      } catch (error) {
        // A header Node refuses to send (a token with a line break in it): nothing was sent.
        return answer(classifyNetworkError(error))
      }
      request.setTimeout(idleMs, () => fail('timeout', `Request timeout: nothing received for ${formatDuration(idleMs)}`))
      request.on('error', error => answer(classifyNetworkError(error)))
      request.end(data ?? undefined)
    })
  }

  private gateFor(url: string): RateGate {
    const origin = new URL(url).origin
    let gate = this.gates.get(origin)
    if (!gate) this.gates.set(origin, (gate = new RateGate(this.options.clock)))
    return gate
  }

  private throwIfCancelled(): void {
    if (this.options.signal?.aborted) throw new CancelledError()
  }
}

/** What a failed exchange was, from the error Node or the proxy agent raised. */
export function classifyNetworkError(error: unknown): Extract<Exchange, { kind: 'network' }> {
  const message = messageOf(error)
  const code = (error as { code?: string } | undefined)?.code ?? ''
  if (code === 'ETIMEDOUT') return { kind: 'network', error: 'timeout', message }
  if (code === 'ENOTFOUND')
    return { kind: 'network', error: 'unresolved', message: `${message} (the host name does not exist: check the endpoint)` }
  if (['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ECONNABORTED'].includes(code) || /socket hang up/i.test(message))
    return { kind: 'network', error: 'reset', message: `${code || 'connection reset'}: ${message}` }
  return { kind: 'network', error: 'other', message }
}

/**
 * Reads an answer: a redirect is refused unread, and a body is read into one buffer up to the limit
 * of its kind (an error answer has its own), and abandoned as soon as it passes it.
 */
function readAnswer(
  response: IncomingMessage,
  kind: AnswerKind,
  answer: (exchange: Exchange) => void,
  fail: (error: NetworkError, message: string) => void
): void {
  const status = response.statusCode ?? 0
  const headers = response.headers
  if (status >= 300 && status < 400) return fail('redirect', refusedRedirect(status, header(headers, 'location')))
  const success = status >= 200 && status < 300
  const max = success ? ANSWER_MAX_BYTES[kind] : ERROR_BODY_MAX_BYTES
  const tooLarge = (): void =>
    fail(
      'oversized',
      `HTTP ${status} with a body larger than ${formatBytes(max)}, the limit for ${ANSWER_LABELS[success ? kind : 'error']}`
    )
  if (Number(header(headers, 'content-length')) > max) return tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  response.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > max) tooLarge()
    else chunks.push(chunk)
  })
  response.on('end', () => answer({ kind: 'response', status, headers, text: Buffer.concat(chunks, size).toString('utf8') }))
  response.on('error', error => answer(classifyNetworkError(error)))
  response.on('close', () => {
    if (!response.complete) fail('reset', 'connection reset: the connection closed before the whole answer arrived')
  })
}

/** Why a 3xx is final: Graph, Entra and ARM answer the action directly; a redirect would send the request elsewhere. */
function refusedRedirect(status: number, location: string | undefined): string {
  // The Location is the server's text: clipped, and only printable ASCII shown.
  const shown =
    location === undefined
      ? 'no Location'
      : `Location "${location.slice(0, LOCATION_SHOWN_CHARS).replace(/[^\x20-\x7e]/g, '?')}${location.length > LOCATION_SHOWN_CHARS ? '…' : ''}"`
  return `HTTP ${status} redirect (${shown}), not followed: the service answers this request itself, and a redirect would send it and its credentials elsewhere`
}

export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}
