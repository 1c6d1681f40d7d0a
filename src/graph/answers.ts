// What a Graph answer means: a result, a failure the retry policy weighs, or the error the user
// sees. Pure: an exchange in, a verdict out.

import { ActionError, GraphError } from '../core/errors.js'
import { parseJson } from '../http/json.js'
import { type Exchange, header, type Tried } from '../http/requester.js'
import type { RequestKind } from '../http/retry-policy.js'

export interface RequestIds {
  requestId?: string
  clientRequestId: string
}

export interface GraphResponse<T> {
  status: number
  body: T | undefined
  /** What Microsoft support asks for about this answer. */
  ids: RequestIds
}

export function interpretGraphAnswer<T>(
  kind: RequestKind,
  method: string,
  path: string,
  exchange: Exchange,
  clientRequestId: string
): Tried<GraphResponse<T>> {
  const lost = (what: string) => () => new ActionError('Graph unreachable', `${method} ${path} failed: ${what}.`)
  if (exchange.kind === 'network')
    return {
      kind: 'failed',
      attempt: { kind: 'network', error: exchange.error },
      what: exchange.message,
      error: lost(exchange.message)
    }
  const { status, headers, text } = exchange
  const requestId = header(headers, 'request-id')
  if (status >= 200 && status < 300) {
    const parsed = parseJson<T>(text)
    // Every read answers with a JSON body; writes may answer 204 with none.
    if (parsed.ok && (kind === 'write' || parsed.value !== undefined))
      return { kind: 'done', value: { status, body: parsed.value, ids: { requestId, clientRequestId } } }
    // A success whose body is unreadable is as good as a lost answer: a read is repeated, and a
    // write has acted but what it made is unknown.
    const what = `HTTP ${status} with ${parsed.ok ? 'an empty body' : parsed.why}`
    return { kind: 'failed', attempt: { kind: 'network', error: 'other' }, what, requestId, error: lost(what) }
  }
  return {
    kind: 'failed',
    attempt: { kind: 'response', status, retryAfter: header(headers, 'retry-after') },
    what: `HTTP ${status}`,
    requestId,
    error: () => toGraphError(method, path, exchange, clientRequestId)
  }
}

interface GraphErrorBody {
  error?: {
    code?: unknown
    message?: unknown
    innerError?: { code?: unknown; 'request-id'?: unknown; 'client-request-id'?: unknown; date?: unknown }
  }
}

/** The error the user sees for a Graph refusal, with the identifiers Microsoft support asks for. */
export function toGraphError(
  method: string,
  path: string,
  answer: Extract<Exchange, { kind: 'response' }>,
  clientRequestId: string
): GraphError {
  const parsed = parseJson<GraphErrorBody>(answer.text)
  const body = parsed.ok ? parsed.value : undefined
  const error = body && typeof body === 'object' ? body.error : undefined
  const inner = error && typeof error === 'object' ? error.innerError : undefined
  return new GraphError({
    method,
    path,
    status: answer.status,
    code: text(error?.code) ?? `http${answer.status}`,
    message: text(error?.message) ?? (answer.text.trim().slice(0, 300) || 'no error body'),
    innerCode: text(inner?.code),
    requestId: text(inner?.['request-id']) ?? header(answer.headers, 'request-id'),
    clientRequestId: text(inner?.['client-request-id']) ?? header(answer.headers, 'client-request-id') ?? clientRequestId,
    date: text(inner?.date) ?? header(answer.headers, 'date')
  })
}

/** A field of an error body, when it is the string it should be: a body of another shape prints as its text. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}
