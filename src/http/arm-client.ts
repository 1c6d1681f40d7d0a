// Reads of Azure Resource Manager for the source-image preflight, through the one retry path. The
// ARM token is sent only to armEndpoint, as the Graph token is sent only to graphEndpoint.

import { randomUUID } from 'node:crypto'
import { sendWithToken, type TokenProvider } from './credentials.js'
import { ActionError, ArmError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { type Exchange, header, type Requester, type Tried } from './requester.js'
import { parseJson } from './json.js'

/** Current stable api-versions of the two resource providers (Azure REST reference, Compute). */
export const MANAGED_IMAGE_API_VERSION = '2024-07-01'
export const GALLERY_API_VERSION = '2023-07-03'

export interface ArmClientOptions {
  armEndpoint: string
  tokens: TokenProvider
  requester: Requester
  logger: Logger
}

/** ARM could not be reached at all, for a reason no retry mends (its host name does not resolve). */
export class ArmUnreachableError extends ActionError {
  constructor(message: string) {
    super('Azure Resource Manager unreachable', message)
    this.name = 'ArmUnreachableError'
  }
}

export class ArmClient {
  constructor(private readonly options: ArmClientOptions) {}

  /** GET a resource by its ID; reads are retried as every read is, until `deadline`. */
  get<T>(resourceId: string, apiVersion: string, deadline: number): Promise<T> {
    const { tokens, requester, logger, armEndpoint } = this.options
    const path = `${resourceId}?api-version=${apiVersion}`
    const url = `${armEndpoint}${path}`
    return requester.retrying({ kind: 'read', method: 'GET', path, url, deadline }, async () => {
      const send = async (token: string) => {
        const clientRequestId = randomUUID()
        const headers = {
          Authorization: `Bearer ${token}`,
          Accept: 'application/json',
          'x-ms-client-request-id': clientRequestId
        }
        logger.debug(`GET ${path} (x-ms-client-request-id ${clientRequestId})`)
        return { clientRequestId, exchange: await requester.exchange('GET', url, null, headers, { deadline, answer: 'entity' }) }
      }
      const sent = await sendWithToken(tokens, deadline, send)
      return interpretArmAnswer<T>(path, sent.exchange, sent.clientRequestId)
    })
  }
}

/** What an ARM answer means: the resource, a failure the retry policy weighs, or the error. Pure. */
export function interpretArmAnswer<T>(path: string, exchange: Exchange, clientRequestId: string): Tried<T> {
  if (exchange.kind === 'network')
    return {
      kind: 'failed',
      attempt: { kind: 'network', error: exchange.error },
      what: exchange.message,
      error: () => new ArmUnreachableError(`GET ${path} failed: ${exchange.message}.`)
    }
  const { status, headers, text } = exchange
  const requestId = header(headers, 'x-ms-request-id')
  if (status === 200) {
    const body = parse(text)
    if (body && typeof body === 'object') return { kind: 'done', value: body as T }
    const what = `HTTP 200 with ${text.trim() ? 'a body that is not JSON' : 'an empty body'}`
    return {
      kind: 'failed',
      attempt: { kind: 'network', error: 'other' },
      what,
      requestId,
      error: () => new ActionError('Unexpected Azure Resource Manager answer', `GET ${path}: ${what}.`)
    }
  }
  const error = (parse(text) as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
  return {
    kind: 'failed',
    attempt: { kind: 'response', status, retryAfter: header(headers, 'retry-after') },
    what: `HTTP ${status}`,
    requestId,
    error: () =>
      new ArmError({
        path,
        status,
        code: typeof error?.code === 'string' ? error.code : `http${status}`,
        message: typeof error?.message === 'string' ? error.message : text.trim().slice(0, 300) || 'no error body',
        requestId,
        correlationId: header(headers, 'x-ms-correlation-request-id'),
        clientRequestId
      })
  }
}

function parse(text: string): unknown {
  const parsed = parseJson<unknown>(text)
  return parsed.ok ? parsed.value : undefined
}
