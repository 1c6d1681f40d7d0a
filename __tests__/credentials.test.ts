import { describe, expect, it } from '@jest/globals'
import { jwtClaims, jwtExpiry, renewAt } from '../src/credentials.js'

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

describe('token lifetime', () => {
  it('renews five minutes early for an hour-long token, and a tenth early for short ones', () => {
    expect(renewAt(0, 3600_000)).toBe(3300_000)
    expect(renewAt(0, 1000)).toBe(900)
    expect(renewAt(1000, 2000)).toBe(1900)
  })

  it('reads exp from a JWT and nothing from other strings', () => {
    expect(jwtExpiry(jwt({ exp: 1_800_000_000 }))).toBe(1_800_000_000_000)
    expect(jwtExpiry(jwt({ sub: 'x' }))).toBeUndefined()
    expect(jwtExpiry('opaque-token')).toBeUndefined()
    expect(jwtExpiry('a.%%%.c')).toBeUndefined()
    expect(jwtClaims(jwt({ sub: 'repo:o/r:ref:refs/heads/main' }))).toEqual({ sub: 'repo:o/r:ref:refs/heads/main' })
  })
})
