// Every Graph request goes through here: the headers the contract requires, the token, one renewal
// on 401, and the one retry path of the requester.

import { randomUUID } from 'node:crypto'
import type { OutgoingHttpHeaders } from 'node:http'
import { sendWithToken, type TokenProvider } from '../http/credentials.js'
import { ActionError } from '../core/errors.js'
import { type GraphResponse, interpretGraphAnswer } from './answers.js'
import type { GraphCollection } from './model.js'
import type { AnswerKind } from '../http/http-limits.js'
import type { Logger } from '../core/logger.js'
import type { Method, Requester } from '../http/requester.js'

export type { GraphResponse, RequestIds } from './answers.js'

export interface GraphClientOptions {
  graphEndpoint: string
  tokens: TokenProvider
  requester: Requester
  logger: Logger
}

export interface GraphRequest {
  method: Method
  /** Path below `/beta` (e.g. `/deviceManagement/virtualEndpoint/deviceImages`) or an absolute `@odata.nextLink`. */
  path: string
  body?: unknown
  /** No retry waits past this instant (ms since the epoch); default: the step budget. */
  deadline?: number
  /** What a success answers with, for its size limit; default a single entity. */
  answer?: AnswerKind
}

const API_VERSION = 'beta'

/**
 * More pages than any list this action reads can have: a tenant holds at most 20 images, and a
 * policy's Cloud PCs fill far fewer pages than this at Graph's page sizes. A list that goes on is
 * a service fault, stopped instead of followed for ever.
 */
export const MAX_PAGES = 1000

export class GraphClient {
  private readonly base: string

  constructor(private readonly options: GraphClientOptions) {
    this.base = `${options.graphEndpoint}/${API_VERSION}`
  }

  get<T>(path: string, deadline?: number): Promise<GraphResponse<T>> {
    return this.request<T>({ method: 'GET', path, deadline })
  }

  /** Reads every page of a collection, following `@odata.nextLink` as given, each link once. */
  async list<T>(path: string, deadline?: number): Promise<T[]> {
    const items: T[] = []
    const seen = new Set<string>()
    for (let next: string | undefined = path; next;) {
      const url = this.resolve(next)
      if (seen.has(url))
        throw new ActionError(
          'Unexpected Graph answer',
          `Listing ${this.shorten(path)}: Graph returned a next page link it had already returned (${this.shorten(url)}); stopped instead of reading the same pages again.`
        )
      if (seen.size >= MAX_PAGES)
        throw new ActionError(
          'Unexpected Graph answer',
          `Listing ${this.shorten(path)}: Graph returned more than ${MAX_PAGES} pages, more than any tenant has; stopped.`
        )
      seen.add(url)
      const page: GraphResponse<GraphCollection<T>> = await this.request<GraphCollection<T>>({
        method: 'GET',
        path: next,
        deadline,
        answer: 'listPage'
      })
      if (!page.body || !Array.isArray(page.body.value))
        throw new ActionError('Unexpected Graph answer', `GET ${this.shorten(url)} answered without a "value" array.`)
      items.push(...page.body.value)
      next = page.body['@odata.nextLink']
    }
    return items
  }

  request<T>(req: GraphRequest): Promise<GraphResponse<T>> {
    const { tokens, requester, logger } = this.options
    const url = this.resolve(req.path)
    const kind = req.method === 'GET' ? 'read' : 'write'
    const path = this.shorten(url)
    const deadline = req.deadline ?? requester.stepDeadline()
    const data = req.body === undefined ? null : JSON.stringify(req.body)
    return requester.retrying({ kind, method: req.method, path, url, deadline }, async attemptNumber => {
      const send = async (token: string) => {
        const clientRequestId = randomUUID()
        const headers: OutgoingHttpHeaders = {
          Authorization: `Bearer ${token}`,
          Accept: 'application/json',
          Prefer: 'include-unknown-enum-members',
          'client-request-id': clientRequestId
        }
        if (attemptNumber > 1) headers['retry-attempt'] = String(attemptNumber - 1)
        if (data !== null) headers['Content-Type'] = 'application/json'
        logger.debug(`${req.method} ${path} (client-request-id ${clientRequestId})`)
        const exchange = await requester.exchange(req.method, url, data, headers, { deadline, answer: req.answer ?? 'entity' })
        return { clientRequestId, exchange }
      }
      const sent = await sendWithToken(tokens, deadline, send, () =>
        logger.info(`Graph answered 401 to ${req.method} ${path}; renewing the token and repeating once.`)
      )
      return interpretGraphAnswer<T>(kind, req.method, path, sent.exchange, sent.clientRequestId)
    })
  }

  private shorten(url: string): string {
    return url.startsWith(this.base) ? url.slice(this.base.length) : url
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
}
