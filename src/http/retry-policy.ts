// When to repeat a request and how long to wait first. Pure: values in, values out.

export type RequestKind = 'read' | 'write'

/**
 * Why an exchange brought no usable answer. `unresolved`: the host name does not exist (ENOTFOUND),
 * which no retry mends; a typo in an endpoint. `redirect`: the server answered 3xx, which is never
 * followed and means it did not act here; final. `oversized`: a body past its limit
 * (src/http/http-limits.ts), as malformed as one that is not JSON.
 */
export type NetworkError = 'reset' | 'timeout' | 'unresolved' | 'redirect' | 'oversized' | 'other'

/** Network failures after which the request is known not to have been acted on, and no retry helps. */
const NOT_SENT_OR_REFUSED = new Set<NetworkError>(['unresolved', 'redirect'])

export type Attempt = { kind: 'response'; status: number; retryAfter?: string } | { kind: 'network'; error: NetworkError }

export interface RetryOptions {
  baseDelayMs: number
  /** Backoff never waits longer than this between two attempts. */
  maxDelayMs: number
  /** How long a request outside the wait is retried: its deadline when the caller names none. */
  stepBudgetMs: number
}

/**
 * A request outside the wait (sign-in, find, create, roll-out) rides out an outage or a throttle of
 * up to ten minutes; past that the step fails and says why, long before a runner would kill the job.
 * The wait has its own deadline, `timeoutMinutes`.
 */
export const STEP_BUDGET_MS = 10 * 60_000

export const DEFAULT_RETRY: RetryOptions = { baseDelayMs: 2000, maxDelayMs: 120_000, stepBudgetMs: STEP_BUDGET_MS }

/** Statuses after which the service is known not to have acted, so even a write may be sent again. */
const NOT_ACTED = new Set([429, 503])
const READ_RETRYABLE = new Set([429, 500, 502, 503, 504])

export function isRetryable(kind: RequestKind, attempt: Attempt): boolean {
  if (attempt.kind === 'network') return kind === 'read' && !NOT_SENT_OR_REFUSED.has(attempt.error)
  return kind === 'read' ? READ_RETRYABLE.has(attempt.status) : NOT_ACTED.has(attempt.status)
}

/**
 * A write that failed in a way that leaves its outcome unknown: the service may have acted.
 * It must never be repeated blindly; the caller reads the state first.
 */
export function isOutcomeUnknown(kind: RequestKind, attempt: Attempt): boolean {
  if (kind !== 'write') return false
  // A request to a host that does not resolve was never sent; one answered by a redirect was not acted on.
  if (attempt.kind === 'network') return !NOT_SENT_OR_REFUSED.has(attempt.error)
  return attempt.status >= 500 && !NOT_ACTED.has(attempt.status)
}

/** An HTTP date starts with the day's name ("Sun, 06 Nov 1994 …" and the two obsolete forms). */
const HTTP_DATE = /^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s/i

/**
 * `Retry-After` as delta-seconds or an HTTP date, in ms from `now` (a date past is 0); undefined
 * when absent or unreadable. A negative number is unreadable, and so is anything else that is not
 * an HTTP date, which Date.parse would otherwise read ("-1" as the year 2001).
 */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (!header) return undefined
  const value = header.trim()
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000)
  if (!HTTP_DATE.test(value)) return undefined
  const date = Date.parse(value)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: 'final' | 'deadline' }
  /** The service asked for a pause that ends past the deadline. */
  | { retry: false; reason: 'throttled'; retryAfterMs: number }

/**
 * Decides whether attempt number `attemptNumber` (1-based) is followed by another, and after how long.
 * A retryable failure is retried until `deadline` after exponential backoff with jitter, capped,
 * and shortened so that the last attempt falls on the deadline. `Retry-After` lengthens the backoff,
 * never shortens it (a hint of 0 or a date past would repeat the request at once, for ever), and one
 * that ends past the deadline stops now.
 */
export function decideRetry(
  kind: RequestKind,
  attempt: Attempt,
  attemptNumber: number,
  now: number,
  deadline: number,
  options: RetryOptions = DEFAULT_RETRY,
  random: () => number = Math.random
): RetryDecision {
  if (!isRetryable(kind, attempt)) return { retry: false, reason: 'final' }
  if (now >= deadline) return { retry: false, reason: 'deadline' }
  const hinted = attempt.kind === 'response' ? parseRetryAfter(attempt.retryAfter, now) : undefined
  if (hinted !== undefined && now + hinted > deadline) return { retry: false, reason: 'throttled', retryAfterMs: hinted }
  const delayMs = Math.max(hinted ?? 0, backoffMs(attemptNumber, options, random))
  return { retry: true, delayMs: Math.min(delayMs, deadline - now) }
}

/**
 * Equal jitter: half the capped exponential step, plus a random part of the other half. Spreads
 * concurrent callers apart, and never comes out at zero, so a run of failures always moves time on.
 */
export function backoffMs(attemptNumber: number, options: RetryOptions, random: () => number): number {
  // 2 ** n is Infinity for a long outage, and the cap still holds.
  const step = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attemptNumber - 1))
  return Math.round(step / 2 + (random() * step) / 2)
}
