import { describe, expect, it } from '@jest/globals'
import {
  backoffMs,
  decideRetry,
  DEFAULT_RETRY,
  isOutcomeUnknown,
  isRetryable,
  parseRetryAfter
} from '../src/http/retry-policy.js'

const options = { baseDelayMs: 1000, maxDelayMs: 5000, stepBudgetMs: 60_000 }
const NOW = Date.parse('2026-11-23T10:00:00Z')

describe('retry policy', () => {
  it.each([
    ['read', 429, true],
    ['read', 500, true],
    ['read', 502, true],
    ['read', 503, true],
    ['read', 504, true],
    ['read', 400, false],
    ['read', 404, false],
    ['write', 429, true],
    ['write', 503, true],
    ['write', 500, false],
    ['write', 502, false],
    ['write', 504, false],
    ['write', 409, false]
  ] as const)('%s answered %i is retryable: %s', (kind, status, expected) => {
    expect(isRetryable(kind, { kind: 'response', status })).toBe(expected)
  })

  it('retries network failures of reads, and marks those of writes as unknown outcomes', () => {
    expect(isRetryable('read', { kind: 'network', error: 'reset' })).toBe(true)
    expect(isRetryable('write', { kind: 'network', error: 'timeout' })).toBe(false)
    expect(isOutcomeUnknown('write', { kind: 'network', error: 'timeout' })).toBe(true)
    expect(isOutcomeUnknown('write', { kind: 'response', status: 504 })).toBe(true)
    expect(isOutcomeUnknown('write', { kind: 'response', status: 503 })).toBe(false)
    expect(isOutcomeUnknown('write', { kind: 'response', status: 400 })).toBe(false)
    expect(isOutcomeUnknown('read', { kind: 'response', status: 504 })).toBe(false)
  })

  it('does not retry a host name that does not exist, and knows a write to it was never sent', () => {
    expect(isRetryable('read', { kind: 'network', error: 'unresolved' })).toBe(false)
    expect(isOutcomeUnknown('write', { kind: 'network', error: 'unresolved' })).toBe(false)
    expect(isRetryable('read', { kind: 'network', error: 'other' })).toBe(true)
  })

  it('takes a refused redirect as final and never acted on, and a body past its limit as a malformed answer', () => {
    expect(isRetryable('read', { kind: 'network', error: 'redirect' })).toBe(false)
    expect(isOutcomeUnknown('write', { kind: 'network', error: 'redirect' })).toBe(false)
    expect(isRetryable('read', { kind: 'network', error: 'oversized' })).toBe(true)
    expect(isRetryable('write', { kind: 'network', error: 'oversized' })).toBe(false)
    expect(isOutcomeUnknown('write', { kind: 'network', error: 'oversized' })).toBe(true)
  })

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7', NOW)).toBe(7000)
    expect(parseRetryAfter(new Date(NOW + 12_000).toUTCString(), NOW)).toBe(12_000)
    expect(parseRetryAfter(new Date(NOW - 12_000).toUTCString(), NOW)).toBe(0)
    expect(parseRetryAfter(' 7 ', NOW)).toBe(7000)
    expect(parseRetryAfter('1.25', NOW)).toBe(1250)
    expect(parseRetryAfter('soon', NOW)).toBeUndefined()
    // Neither delta-seconds nor a date: ignored, so backoff decides.
    for (const odd of ['x7', '7 seconds', '1.5s']) expect(parseRetryAfter(odd, NOW)).toBeUndefined()
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined()
  })

  it('reads a negative number, or anything that is not delta-seconds or an HTTP date, as no Retry-After', () => {
    // Date.parse would read each of these as a date in the past.
    for (const odd of ['-1', '-5', '+5', '-0', '2026-01-01']) expect(parseRetryAfter(odd, NOW)).toBeUndefined()
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(0)
    expect(parseRetryAfter('Mon Nov 23 10:00:09 2026', NOW)).toBe(9000)
  })

  it.each([
    ['0', '0'],
    ['a tiny fraction', '0.001'],
    ['a date in the past', new Date(NOW - 12_000).toUTCString()],
    ['a date now', new Date(NOW).toUTCString()]
  ])('never waits less than the backoff after a Retry-After of %s', (_name, retryAfter) => {
    const answer = { kind: 'response', status: 429, retryAfter } as const
    // Backoff with jitter 0.5: 750 ms, then 1500 ms, 3000 ms, capped at 5000 ms.
    const delays = [1, 2, 3, 4].map(n => decideRetry('read', answer, n, NOW, Infinity, options, () => 0.5))
    expect(delays).toEqual([750, 1500, 3000, 3750].map(delayMs => ({ retry: true, delayMs })))
  })

  it('takes the longer of Retry-After and the backoff', () => {
    const answer = (retryAfter: string) => ({ kind: 'response', status: 503, retryAfter }) as const
    expect(decideRetry('read', answer('2'), 4, NOW, Infinity, options, () => 0.5)).toEqual({ retry: true, delayMs: 3750 })
    expect(decideRetry('read', answer('4'), 4, NOW, Infinity, options, () => 0.5)).toEqual({ retry: true, delayMs: 4000 })
    // The backoff is still shortened to the deadline; the service's hint is what stops a request early.
    expect(decideRetry('read', answer('0'), 4, NOW, NOW + 300, options, () => 0.5)).toEqual({ retry: true, delayMs: 300 })
  })

  it('moves time on under a service that keeps answering Retry-After: 0', () => {
    // Ten seconds of a throttle that names no wait: a handful of attempts, not a hot loop.
    let now = NOW
    let attempts = 0
    for (; attempts < 1000 && now < NOW + 10_000; attempts++) {
      const decision = decideRetry(
        'read',
        { kind: 'response', status: 429, retryAfter: '0' },
        attempts + 1,
        now,
        Infinity,
        DEFAULT_RETRY,
        () => 0
      )
      if (!decision.retry) break
      now += decision.delayMs
    }
    // Backoff without jitter: 1 s, 2 s, 4 s, 8 s: attempts at 0, 1, 3 and 7 seconds.
    expect(attempts).toBe(4)
  })

  it('honours Retry-After over backoff', () => {
    expect(decideRetry('read', { kind: 'response', status: 429, retryAfter: '3' }, 1, NOW, Infinity, options, () => 0.5)).toEqual(
      { retry: true, delayMs: 3000 }
    )
  })

  it('backs off exponentially with equal jitter, capped, never at zero', () => {
    const delays = [1, 2, 3].map(n =>
      decideRetry('read', { kind: 'response', status: 503 }, n, NOW, Infinity, options, () => 0.999)
    )
    expect(delays).toEqual([
      { retry: true, delayMs: 1000 },
      { retry: true, delayMs: 1999 },
      { retry: true, delayMs: 3998 }
    ])
    expect(backoffMs(1, options, () => 0)).toBe(500)
    expect(backoffMs(3, { ...options, maxDelayMs: 1500 }, () => 1)).toBe(1500)
    expect(backoffMs(3, { ...options, maxDelayMs: 1500 }, () => 0)).toBe(750)
    // A long outage does not overflow the exponent.
    expect(backoffMs(5000, options, () => 1)).toBe(5000)
  })

  it('retries until the deadline, the last attempt on it, and no further', () => {
    const answer = { kind: 'response', status: 503 } as const
    expect(decideRetry('read', answer, 40, NOW, NOW + 300, options, () => 1)).toEqual({ retry: true, delayMs: 300 })
    expect(decideRetry('read', answer, 40, NOW, NOW, options)).toEqual({ retry: false, reason: 'deadline' })
    expect(decideRetry('read', { kind: 'network', error: 'reset' }, 40, NOW + 1, NOW, options)).toEqual({
      retry: false,
      reason: 'deadline'
    })
    expect(decideRetry('write', answer, 40, NOW, NOW + 300, options, () => 1)).toEqual({ retry: true, delayMs: 300 })
  })

  it('stops at once when Retry-After ends past the deadline, saying for how long', () => {
    expect(decideRetry('read', { kind: 'response', status: 429, retryAfter: '10' }, 1, NOW, NOW + 9000, options)).toEqual({
      retry: false,
      reason: 'throttled',
      retryAfterMs: 10_000
    })
    expect(decideRetry('read', { kind: 'response', status: 429, retryAfter: '9' }, 1, NOW, NOW + 9000, options)).toEqual({
      retry: true,
      delayMs: 9000
    })
  })

  it('does not retry final answers', () => {
    expect(decideRetry('write', { kind: 'response', status: 500 }, 1, NOW, Infinity, options)).toEqual({
      retry: false,
      reason: 'final'
    })
    expect(decideRetry('read', { kind: 'response', status: 404 }, 1, NOW, Infinity, options)).toEqual({
      retry: false,
      reason: 'final'
    })
  })

  it('gives a request outside the wait ten minutes by default', () => {
    expect(DEFAULT_RETRY).toEqual({ baseDelayMs: 2000, maxDelayMs: 120_000, stepBudgetMs: 600_000 })
  })
})
