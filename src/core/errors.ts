// Errors the action reports to the user: each has a short title for the annotation and a message
// that says what failed and what to do.

import { formatDuration } from './duration.js'

/** What the run reports when it ends on an error: the annotation's title and message. */
export interface FailureText {
  title: string
  message: string
}

export class ActionError extends Error {
  constructor(
    readonly title: string,
    message: string
  ) {
    super(message)
    this.name = 'ActionError'
  }

  /** What the run reports when it ends on this error. */
  get failure(): FailureText {
    return { title: this.title, message: this.message }
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

  /** A refusal for the caller's access says what to grant, wherever the error is reported. */
  override get failure(): FailureText {
    const hint = accessHint(this)
    return { title: this.title, message: hint ? `${this.message} ${hint}` : this.message }
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

/**
 * The run was cancelled. `account` says what the cancellation left, in words true when it was
 * thrown; the requester, which knows nothing of the run, throws one without.
 */
export class CancelledError extends ActionError {
  constructor(readonly account?: string) {
    super('Cancelled', account ?? 'The run was cancelled.')
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

/** An error answer from one of the services the action calls. */
export type ServiceError = GraphError | ArmError

function statusOf(error: unknown): number | undefined {
  return error instanceof GraphError || error instanceof ArmError ? error.status : undefined
}

// The guards narrow to the status they test (a brand for a range), so that `false` leaves a
// GraphError a GraphError rather than narrowing it away.
declare const refused: unique symbol
/** A ServiceError that isRefusal has seen to be a refusal of the request. */
export type Refusal = ServiceError & { readonly [refused]: true }

/** 404: the service answered that the resource does not exist (deleted, or never there). */
export function isNotFound(error: unknown): error is ServiceError & { readonly status: 404 } {
  return statusOf(error) === 404
}

/**
 * 401 or 403: the service refused the caller (its token or its permissions), which says nothing of
 * the request itself; what to do is about access, never about the image.
 */
export function isAuthRefusal(error: unknown): error is ServiceError & { readonly status: 401 | 403 } {
  const status = statusOf(error)
  return status === 401 || status === 403
}

/**
 * Any other 4xx: the service answered deliberately that it will not do this request, and did not
 * act on it. A refusal of the caller's access is not one (see isAuthRefusal): it is never taken as
 * a verdict on the request.
 */
export function isRefusal(error: unknown): error is Refusal {
  const status = statusOf(error)
  return status !== undefined && status >= 400 && status < 500 && !isAuthRefusal(error)
}

/** What an error says; for an ActionError what the run would report, so a permission problem keeps its hint. */
export function messageOf(error: unknown): string {
  if (error instanceof ActionError) return error.failure.message
  return error instanceof Error ? error.message : String(error)
}

/** What the user can do about a Graph refusal that is about access rather than the image. */
function accessHint(error: GraphError): string | undefined {
  if (error.status === 401)
    return 'Microsoft Graph refused the token: check that it was issued for this cloud (graphEndpoint) and has not expired.'
  if (error.status === 403) {
    const forCreate = error.details.method === 'POST' && /deviceImages$/.test(error.details.path)
    return `The app lacks a permission: grant the Microsoft Graph application permission CloudPC.ReadWrite.All (CloudPC.Read.All is enough for dryRun) and give admin consent.${forCreate ? ' Windows 365 also needs the Reader role on the subscription that holds the source image.' : ''}`
  }
  return undefined
}
