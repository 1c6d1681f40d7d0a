// Every Graph request goes through here: the headers the contract requires, the token, one retry
// policy, one renewal on 401, and errors that carry the identifiers support asks for.

import { randomUUID } from 'node:crypto'
import { HttpClient } from '@actions/http-client'
import type { OutgoingHttpHeaders } from 'node:http'
import type { Clock } from './clock.js'
import type { TokenProvider } from './credentials.js'
import { ActionError, CancelledError, DeadlineError, GraphError, messageOf, OutcomeUnknownError } from './errors.js'
import type { GraphCollection } from './graph-types.js'
import type { Logger } from './logger.js'
import { RateGate } from './rate-gate.js'
import {
  type Attempt,
  DEFAULT_RETRY,
  decideRetry,
  isOutcomeUnknown,
  type RequestKind,
  type RetryOptions
} from './retry-policy.js'
import { USER_AGENT } from './version.js'

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

export interface GraphClientOptions {
  graphEndpoint: string
  tokens: TokenProvider
  clock: Clock
  logger: Logger
  retry?: RetryOptions
  requestTimeoutMs?: number
  random?: () => number
  signal?: AbortSignal
}

export interface GraphResponse<T> {
  status: number
  body: T | undefined
  /** What Microsoft support asks for about this answer. */
  ids: RequestIds
}

export interface RequestIds {
  requestId?: string
  clientRequestId: string
}

export interface GraphRequest {
  method: Method
  /** Path below `/beta` (e.g. `/deviceManagement/virtualEndpoint/deviceImages`) or an absolute `@odata.nextLink`. */
  path: string
  body?: unknown
  /** No retry waits past this instant (ms since the epoch). */
  deadline?: number
}

type Sent =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined>; text: string }
  | { kind: 'network'; error: 'reset' | 'timeout' | 'other'; message: string }

const API_VERSION = 'beta'
const DEFAULT_REQUEST_TIMEOUT_MS = 100_000

export class GraphClient {
  private readonly http: HttpClient
  private readonly base: string
  private readonly gate: RateGate

  constructor(private readonly options: GraphClientOptions) {
    this.http = new HttpClient(USER_AGENT, [], {
      socketTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      allowRetries: false,
      // Reused connections spare a TLS handshake and a socket per poll. A pooled socket the service
      // has closed can only turn a write into an unknown outcome, which is settled by a read anyway.
      keepAlive: true
    })
    this.base = `${options.graphEndpoint}/${API_VERSION}`
    this.gate = new RateGate(options.clock)
  }

  get<T>(path: string, deadline?: number): Promise<GraphResponse<T>> {
    return this.request<T>({ method: 'GET', path, deadline })
  }

  /** Reads every page of a collection, following `@odata.nextLink` as given. */
  async list<T>(path: string, deadline?: number): Promise<T[]> {
    const items: T[] = []
    let next: string | undefined = path
    while (next) {
      const page: GraphResponse<GraphCollection<T>> = await this.get<GraphCollection<T>>(next, deadline)
      if (!page.body || !Array.isArray(page.body.value))
        throw new ActionError('Unexpected Graph answer', `GET ${next} answered without a "value" array.`)
      items.push(...page.body.value)
      next = page.body['@odata.nextLink']
    }
    return items
  }

  async request<T>(req: GraphRequest): Promise<GraphResponse<T>> {
    const url = this.resolve(req.path)
    const kind: RequestKind = req.method === 'GET' ? 'read' : 'write'
    const deadline = req.deadline ?? Number.POSITIVE_INFINITY
    const retry = this.options.retry ?? DEFAULT_RETRY
    const shortPath = url.replace(this.base, '')
    let renewed = false
    for (let attemptNumber = 1; ; attemptNumber++) {
      this.throwIfCancelled()
      await this.gate.pass(this.options.signal)
      this.throwIfCancelled()
      const token = await this.options.tokens.getToken()
      const clientRequestId = randomUUID()
      const headers: OutgoingHttpHeaders = {
        Authorization: `Bearer ${token}`,
        Accept: 'application/json',
        Prefer: 'include-unknown-enum-members',
        'client-request-id': clientRequestId
      }
      if (attemptNumber > 1) headers['retry-attempt'] = String(attemptNumber - 1)
      let data: string | null = null
      if (req.body !== undefined) {
        data = JSON.stringify(req.body)
        headers['Content-Type'] = 'application/json'
      }
      this.options.logger.debug(`${req.method} ${shortPath} (client-request-id ${clientRequestId})`)
      const sent = await this.send(req.method, url, data, headers)

      if (sent.kind === 'response' && sent.status === 401 && !renewed && this.options.tokens.renewable) {
        renewed = true
        this.options.tokens.invalidate()
        this.options.logger.info(`Graph answered 401 to ${req.method} ${shortPath}; renewing the token and repeating once.`)
        attemptNumber--
        continue
      }

      let attempt: Attempt
      let what: string
      let unreadable = false
      if (sent.kind === 'response' && sent.status >= 200 && sent.status < 300) {
        const parsed = parseJson<T>(sent.text)
        // Every read answers with a JSON body; writes may answer 204 with none.
        if (parsed.ok && (kind === 'write' || parsed.value !== undefined))
          return {
            status: sent.status,
            body: parsed.value,
            ids: { requestId: header(sent.headers, 'request-id'), clientRequestId }
          }
        // A success whose body is unreadable: a write has acted, but what it made is unknown; a read is
        // as transient as a lost connection.
        what = `HTTP ${sent.status} with ${sent.text.trim() ? 'a body that is not JSON' : 'an empty body'}`
        if (kind === 'write') throw new OutcomeUnknownError(req.method, shortPath, what)
        attempt = { kind: 'network', error: 'other' }
        unreadable = true
      } else if (sent.kind === 'response') {
        attempt = { kind: 'response', status: sent.status, retryAfter: header(sent.headers, 'retry-after') }
        what = `HTTP ${sent.status}`
      } else {
        attempt = { kind: 'network', error: sent.error }
        what = sent.message
      }
      const decision = decideRetry(kind, attempt, attemptNumber, this.options.clock.now(), deadline, retry, this.options.random)
      if (decision.retry) {
        const requestId = sent.kind === 'response' ? header(sent.headers, 'request-id') : undefined
        // The service named a time: hold every request of this client until then, not only this one.
        if (attempt.kind === 'response' && attempt.retryAfter !== undefined) this.gate.holdFor(decision.delayMs)
        await this.pause(req.method, shortPath, what, decision.delayMs, attemptNumber, retry.maxAttempts, requestId)
        continue
      }
      if (isOutcomeUnknown(kind, attempt)) throw new OutcomeUnknownError(req.method, shortPath, what)
      if (decision.reason === 'deadline') throw new DeadlineError(`${req.method} ${shortPath}: ${what}`)
      if (unreadable) throw new ActionError('Unexpected Graph answer', `${req.method} ${shortPath} answered ${what}.`)
      if (sent.kind === 'response') throw toGraphError(req.method, shortPath, sent, clientRequestId)
      throw new ActionError(
        'Graph unreachable',
        `${req.method} ${shortPath} failed: ${what}${decision.reason === 'final' ? '' : ` (gave up after ${attemptNumber} attempts)`}.`
      )
    }
  }

  private async pause(
    method: string,
    path: string,
    what: string,
    delayMs: number,
    attemptNumber: number,
    maxAttempts: number,
    requestId: string | undefined
  ): Promise<void> {
    this.options.logger.info(
      `${method} ${path}: ${what}; retrying in ${(delayMs / 1000).toFixed(1)} s (attempt ${attemptNumber + 1} of ${maxAttempts}${requestId ? `, request-id ${requestId}` : ''}).`
    )
    await this.options.clock.sleep(delayMs, this.options.signal)
    this.throwIfCancelled()
  }

  private resolve(path: string): string {
    if (!/^https?:\/\//i.test(path)) return `${this.base}${path}`
    // Only follow links back to the Graph endpoint: the token must never leave it.
    if (new URL(path).origin !== new URL(this.options.graphEndpoint).origin)
      throw new ActionError(
        'Unexpected Graph link',
        `Graph returned a link to another host (${new URL(path).origin}); not following it.`
      )
    return path
  }

  private throwIfCancelled(): void {
    if (this.options.signal?.aborted) throw new CancelledError()
  }

  private async send(method: Method, url: string, data: string | null, headers: OutgoingHttpHeaders): Promise<Sent> {
    const exchange = (async (): Promise<Sent> => {
      try {
        const response = await this.http.request(method, url, data, headers)
        const text = await response.readBody()
        return { kind: 'response', status: response.message.statusCode ?? 0, headers: response.message.headers, text }
      } catch (error) {
        return classifyNetworkError(error)
      }
    })()
    const signal = this.options.signal
    if (!signal) return exchange
    if (signal.aborted) throw new CancelledError()
    // One listener per request, removed when the request ends: a long wait makes thousands of them.
    let onAbort: () => void = () => undefined
    const cancelled = new Promise<never>((_, reject) => {
      onAbort = () => reject(new CancelledError())
      signal.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([exchange, cancelled])
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }
}

function classifyNetworkError(error: unknown): Sent {
  const message = messageOf(error)
  const code = (error as { code?: string } | undefined)?.code ?? ''
  if (/^Request timeout/i.test(message) || code === 'ETIMEDOUT') return { kind: 'network', error: 'timeout', message }
  if (['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ECONNABORTED'].includes(code) || /socket hang up/i.test(message))
    return { kind: 'network', error: 'reset', message: `${code || 'connection reset'}: ${message}` }
  return { kind: 'network', error: 'other', message }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function parseJson<T>(text: string): { ok: true; value: T | undefined } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: undefined }
  try {
    return { ok: true, value: JSON.parse(text) as T }
  } catch {
    return { ok: false }
  }
}

interface GraphErrorBody {
  error?: {
    code?: string
    message?: string
    innerError?: { code?: string; 'request-id'?: string; 'client-request-id'?: string; date?: string }
  }
}

function toGraphError(
  method: string,
  path: string,
  sent: Extract<Sent, { kind: 'response' }>,
  clientRequestId: string
): GraphError {
  const parsed = parseJson<GraphErrorBody>(sent.text)
  const error = parsed.ok ? parsed.value?.error : undefined
  const inner = error?.innerError
  return new GraphError({
    method,
    path,
    status: sent.status,
    code: error?.code ?? `http${sent.status}`,
    message: error?.message ?? (sent.text.trim().slice(0, 300) || 'no error body'),
    innerCode: inner?.code,
    requestId: inner?.['request-id'] ?? header(sent.headers, 'request-id'),
    clientRequestId: inner?.['client-request-id'] ?? header(sent.headers, 'client-request-id') ?? clientRequestId,
    date: inner?.date ?? header(sent.headers, 'date')
  })
}
