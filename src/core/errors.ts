// Errors the action reports to the user: each has a short title for the annotation and a message
// that says what failed and what to do.

import { formatDuration } from './duration.js'

export class ActionError extends Error {
  constructor(
    readonly title: string,
    message: string
  ) {
    super(message)
    this.name = 'ActionError'
  }
}

export interface GraphErrorDetails {
  method: string
  path: string
  status: number
  code: string
  message: string
  innerCode?: string
  requestId?: string
  clientRequestId?: string
  date?: string
}

/** An error answer from Microsoft Graph, carrying the identifiers Microsoft support asks for. */
export class GraphError extends ActionError {
  constructor(readonly details: GraphErrorDetails) {
    super(`Graph ${details.method} failed: ${details.status} ${details.code}`, formatGraphError(details))
    this.name = 'GraphError'
  }

  get status(): number {
    return this.details.status
  }

  /** Matches `error.code` or a nested code, case-insensitively (the service mixes casings). */
  hasCode(code: string): boolean {
    const want = code.toLowerCase()
    return this.details.code.toLowerCase() === want || this.details.innerCode?.toLowerCase() === want
  }
}

/** A write whose answer was lost (reset, time-out, 5xx): the service may or may not have acted. */
export class OutcomeUnknownError extends ActionError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly cause: string
  ) {
    super(`Graph ${method} outcome unknown`, `${method} ${path}: ${cause}; the service may or may not have acted.`)
    this.name = 'OutcomeUnknownError'
  }
}

/** A write whose answer was lost, which no read showed to have taken effect, and which is not sent again. */
export class UnsettledError extends ActionError {
  constructor(message: string) {
    super('Outcome unknown', message)
    this.name = 'UnsettledError'
  }
}

/** A request kept failing until the deadline of the step it serves. */
export class DeadlineError extends ActionError {
  constructor(
    what: string,
    title = 'Deadline reached',
    message = `${what}. The service is down or overloaded: run the workflow again later.`
  ) {
    super(title, message)
    this.name = 'DeadlineError'
  }
}

/** The service asked for a pause that would end past the deadline: the step stops now instead of sleeping. */
export class ThrottledError extends DeadlineError {
  constructor(
    what: string,
    readonly retryAfterMs: number,
    leftMs: number
  ) {
    super(
      what,
      'Throttled',
      `${what}: the service throttled the request and asked to wait ${formatDuration(retryAfterMs)} (Retry-After), longer than the ${formatDuration(leftMs)} left before the deadline; stopped instead of waiting.`
    )
    this.name = 'ThrottledError'
  }
}

export class CancelledError extends ActionError {
  constructor() {
    super('Cancelled', 'The run was cancelled.')
    this.name = 'CancelledError'
  }
}

function formatGraphError(d: GraphErrorDetails): string {
  const ids = [
    `code: ${d.code}${d.innerCode && d.innerCode !== d.code ? ` (${d.innerCode})` : ''}`,
    `request-id: ${d.requestId ?? 'none'}`,
    `client-request-id: ${d.clientRequestId ?? 'none'}`,
    `date: ${d.date ?? 'none'}`
  ]
  return `${d.method} ${d.path} answered HTTP ${d.status}: ${d.message} [${ids.join('; ')}]`
}

export interface ArmErrorDetails {
  path: string
  status: number
  code: string
  message: string
  requestId?: string
  correlationId?: string
  clientRequestId: string
}

/** An error answer from Azure Resource Manager, with the identifiers Azure support asks for. */
export class ArmError extends ActionError {
  constructor(readonly details: ArmErrorDetails) {
    super(
      `Azure Resource Manager GET failed: ${details.status} ${details.code}`,
      `GET ${details.path} answered HTTP ${details.status}: ${details.message} [code: ${details.code}; x-ms-request-id: ${details.requestId ?? 'none'}; x-ms-correlation-request-id: ${details.correlationId ?? 'none'}; x-ms-client-request-id: ${details.clientRequestId}]`
    )
    this.name = 'ArmError'
  }

  get status(): number {
    return this.details.status
  }
}

/** A 4xx answer: the service refused the request and did not act on it. */
export function isRefusal(error: unknown): error is GraphError {
  return error instanceof GraphError && error.status >= 400 && error.status < 500
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** What the user can do about a Graph refusal that is about access rather than the image. */
export function accessHint(error: GraphError): string | undefined {
  if (error.status === 401)
    return 'Microsoft Graph refused the token: check that it was issued for this cloud (graphEndpoint) and has not expired.'
  if (error.status === 403) {
    const forCreate = error.details.method === 'POST' && /deviceImages$/.test(error.details.path)
    return `The app lacks a permission: grant the Microsoft Graph application permission CloudPC.ReadWrite.All (CloudPC.Read.All is enough for dryRun) and give admin consent.${forCreate ? ' Windows 365 also needs the Reader role on the subscription that holds the source image.' : ''}`
  }
  return undefined
}
