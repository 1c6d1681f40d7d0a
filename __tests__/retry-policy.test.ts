import { describe, expect, it } from '@jest/globals'
import { decideRetry, isOutcomeUnknown, isRetryable, parseRetryAfter } from '../src/retry-policy.js'

const options = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 5000 }
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

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7', NOW)).toBe(7000)
    expect(parseRetryAfter(new Date(NOW + 12_000).toUTCString(), NOW)).toBe(12_000)
    expect(parseRetryAfter(new Date(NOW - 12_000).toUTCString(), NOW)).toBe(0)
    expect(parseRetryAfter('soon', NOW)).toBeUndefined()
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined()
  })

  it('honours Retry-After over backoff', () => {
    expect(decideRetry('read', { kind: 'response', status: 429, retryAfter: '3' }, 1, NOW, Infinity, options, () => 0.5)).toEqual(
      { retry: true, delayMs: 3000 }
    )
  })

  it('backs off exponentially with full jitter, capped', () => {
    const delays = [1, 2, 3].map(n =>
      decideRetry('read', { kind: 'response', status: 503 }, n, NOW, Infinity, options, () => 0.999)
    )
    expect(delays).toEqual([
      { retry: true, delayMs: 999 },
      { retry: true, delayMs: 1998 },
      { retry: true, delayMs: 3996 }
    ])
    const capped = decideRetry(
      'read',
      { kind: 'response', status: 503 },
      3,
      NOW,
      Infinity,
      { ...options, maxAttempts: 10, maxDelayMs: 1500 },
      () => 1
    )
    expect(capped).toEqual({ retry: true, delayMs: 1500 })
    expect(decideRetry('read', { kind: 'response', status: 503 }, 1, NOW, Infinity, options, () => 0)).toEqual({
      retry: true,
      delayMs: 0
    })
  })

  it('stops at the attempt limit, at the deadline and on final answers', () => {
    expect(decideRetry('read', { kind: 'response', status: 503 }, 4, NOW, Infinity, options)).toEqual({
      retry: false,
      reason: 'attempts'
    })
    expect(decideRetry('read', { kind: 'response', status: 429, retryAfter: '10' }, 1, NOW, NOW + 9000, options)).toEqual({
      retry: false,
      reason: 'deadline'
    })
    expect(decideRetry('write', { kind: 'response', status: 500 }, 1, NOW, Infinity, options)).toEqual({
      retry: false,
      reason: 'final'
    })
  })
})
