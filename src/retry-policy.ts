// When to repeat a Graph request and how long to wait first. Pure: values in, values out.

export type RequestKind = 'read' | 'write'

export type Attempt =
  { kind: 'response'; status: number; retryAfter?: string } | { kind: 'network'; error: 'reset' | 'timeout' | 'other' }

export interface RetryOptions {
  maxAttempts: number
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 6, baseDelayMs: 2000, maxDelayMs: 120_000 }

/** Statuses after which the service is known not to have acted, so even a write may be sent again. */
const NOT_ACTED = new Set([429, 503])
const READ_RETRYABLE = new Set([429, 500, 502, 503, 504])

export function isRetryable(kind: RequestKind, attempt: Attempt): boolean {
  if (attempt.kind === 'network') return kind === 'read'
  return kind === 'read' ? READ_RETRYABLE.has(attempt.status) : NOT_ACTED.has(attempt.status)
}

/**
 * A write that failed in a way that leaves its outcome unknown: the service may have acted.
 * It must never be repeated blindly; the caller reads the state first.
 */
export function isOutcomeUnknown(kind: RequestKind, attempt: Attempt): boolean {
  if (kind !== 'write') return false
  if (attempt.kind === 'network') return true
  return attempt.status >= 500 && !NOT_ACTED.has(attempt.status)
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (!header) return undefined
  const value = header.trim()
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000)
  const date = Date.parse(value)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: 'final' | 'attempts' | 'deadline' }

/**
 * Decides whether attempt number `attemptNumber` (1-based) is followed by another, and after how long.
 * `Retry-After` wins; otherwise full-jitter exponential backoff, capped. Never waits past `deadline`.
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
  if (attemptNumber >= options.maxAttempts) return { retry: false, reason: 'attempts' }
  const hinted = attempt.kind === 'response' ? parseRetryAfter(attempt.retryAfter, now) : undefined
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attemptNumber - 1))
  const delayMs = hinted ?? Math.round(random() * ceiling)
  if (now + delayMs >= deadline) return { retry: false, reason: 'deadline' }
  return { retry: true, delayMs }
}
