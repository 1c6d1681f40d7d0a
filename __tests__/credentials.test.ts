import { describe, expect, it } from '@jest/globals'
import {
  type AzResult,
  createTokenProvider,
  interpretTokenAnswer,
  jwtClaims,
  jwtExpiry,
  renewAt,
  unsafeAzArgument
} from '../src/credentials.js'
import type { Exchange, Requester } from '../src/requester.js'
import { ManualClock } from './helpers/manual-clock.js'
import { RecordingLogger } from './helpers/recording-logger.js'

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

const raw = (payload: string) => `e30.${Buffer.from(payload).toString('base64url')}.sig`

describe('JWT claims', () => {
  it('come only from a three-part token whose middle is a JSON object', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'x' })).toString('base64url')
    expect(jwtClaims(`e30.${payload}.sig`)).toEqual({ sub: 'x' })
    expect(jwtClaims(`e30.${payload}`)).toBeUndefined()
    expect(jwtClaims(`e30.${payload}.sig.more`)).toBeUndefined()
    expect(jwtClaims(raw('null'))).toBeUndefined()
    expect(jwtClaims(raw('5'))).toBeUndefined()
    expect(jwtClaims(raw('"text"'))).toBeUndefined()
  })
})

const ENDPOINTS = { resource: 'https://graph.example', authorityHost: 'https://login.example' }
const NOW = Date.parse('2026-11-23T10:00:00Z')
const answer = (status: number, body: unknown, headers: Record<string, string> = {}): Exchange => ({
  kind: 'response',
  status,
  headers,
  text: typeof body === 'string' ? body : JSON.stringify(body)
})

/** The error the action would show for this answer of the token endpoint. */
function signInError(exchange: Exchange, assertion?: string): Error & { title?: string } {
  const tried = interpretTokenAnswer(exchange, NOW, ENDPOINTS, assertion)
  if (tried.kind !== 'failed') throw new Error('expected a failure')
  return tried.error()
}

describe('the token endpoint answer', () => {
  it('gives the token and its lifetime', () => {
    expect(interpretTokenAnswer(answer(200, { access_token: 't', expires_in: 600 }), NOW, ENDPOINTS)).toEqual({
      kind: 'done',
      value: { token: 't', expiresAt: NOW + 600_000 }
    })
    expect(interpretTokenAnswer(answer(200, { access_token: 't', expires_in: 'soon' }), NOW, ENDPOINTS)).toEqual({
      kind: 'done',
      value: { token: 't', expiresAt: NOW + 3600_000 }
    })
  })

  it('treats a network failure and a 200 without a token as transient, each with its own error', () => {
    const network = interpretTokenAnswer({ kind: 'network', error: 'reset', message: 'socket hang up' }, NOW, ENDPOINTS)
    expect(network).toMatchObject({ kind: 'failed', attempt: { kind: 'network', error: 'reset' }, what: 'socket hang up' })
    if (network.kind === 'failed') expect(network.error().message).toBe('Could not reach https://login.example: socket hang up.')
    const empty = interpretTokenAnswer(answer(200, { access_token: '' }), NOW, ENDPOINTS)
    expect(empty).toMatchObject({ kind: 'failed', attempt: { kind: 'network', error: 'other' } })
    if (empty.kind === 'failed')
      expect(empty.error()).toMatchObject({
        title: 'Sign-in failed',
        message: 'The token endpoint kept answering 200 without a readable access_token.'
      })
  })

  it('passes Retry-After on', () => {
    expect(interpretTokenAnswer(answer(429, {}, { 'retry-after': '7' }), NOW, ENDPOINTS)).toMatchObject({
      attempt: { kind: 'response', status: 429, retryAfter: '7' }
    })
  })

  it('quotes the first line of the Entra error, its code, hint and IDs', () => {
    const error = signInError(
      answer(401, {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret provided.\nTrace ID: abc',
        trace_id: 't-1',
        correlation_id: 'c-1'
      })
    )
    expect(error.title).toBe('Sign-in failed: AADSTS7000215')
    expect(error.message).toBe(
      'The token endpoint answered HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided. The client secret is wrong: check the clientSecret secret (use the secret value, not its ID). trace_id: t-1; correlation_id: c-1'
    )
  })

  it('reads the code from error_codes, and adds no hint for a code it does not know', () => {
    const error = signInError(answer(400, { error_description: 'Something new.', error_codes: [12345] }))
    expect(error.title).toBe('Sign-in failed: AADSTS12345')
    expect(error.message).toBe('The token endpoint answered HTTP 400: Something new. trace_id: none; correlation_id: none')
  })

  it('says which subject GitHub sent only when no federated credential matched', () => {
    const assertion = `e30.${Buffer.from(JSON.stringify({ sub: 'repo:o/r:ref:refs/heads/main' })).toString('base64url')}.sig`
    const unmatched = signInError(
      answer(400, { error_description: 'AADSTS70021: No matching federated identity record found.' }),
      assertion
    )
    expect(unmatched.message).toContain('GitHub sent the subject "repo:o/r:ref:refs/heads/main" (issuer unknown).')
    const wrongSecret = signInError(
      answer(401, { error_description: 'AADSTS7000215: Invalid client secret provided.' }),
      assertion
    )
    expect(wrongSecret.message).not.toContain('GitHub sent the subject')
    const noSubject = signInError(
      answer(400, { error_description: 'AADSTS70021: No matching federated identity record found.' }),
      raw('{"iss":"x"}')
    )
    expect(noSubject.message).not.toContain('GitHub sent the subject')
  })

  it('copes with a body that is not Entra-shaped', () => {
    for (const body of ['null', '<html>Bad gateway</html>', '{"error":{"code":"x"},"error_description":5}'])
      expect(signInError(answer(502, body)).message).toBe(
        'The token endpoint answered HTTP 502: no description trace_id: none; correlation_id: none'
      )
  })
})

describe('the Azure CLI session', () => {
  function provider(result: AzResult, clock = new ManualClock(NOW)) {
    const calls: string[][] = []
    const secrets: string[] = []
    const tokens = createTokenProvider({ kind: 'azureCli' }, ENDPOINTS, {
      clock,
      logger: new RecordingLogger(),
      setSecret: value => void secrets.push(value),
      getIDToken: async () => '',
      runAz: async args => {
        calls.push(args)
        return result
      },
      // The CLI is asked directly: no HTTP request is made.
      requester: undefined as unknown as Requester
    })
    return { tokens, calls, secrets, clock }
  }
  const cli = (body: object): AzResult => ({ ok: true, stdout: JSON.stringify(body) })

  it('asks az for a token for the Graph endpoint, masks it, and reads expires_on', async () => {
    const { tokens, calls, secrets } = provider(cli({ accessToken: 'az-token', expires_on: NOW / 1000 + 600 }))
    expect(await tokens.getToken()).toBe('az-token')
    expect(calls).toEqual([['account', 'get-access-token', '--resource', 'https://graph.example', '--output', 'json']])
    expect(secrets).toEqual(['az-token'])
    expect(tokens.expiresAt()).toBe(NOW + 600_000)
  })

  it('reads the expiry from the token, then from expiresOn, else assumes 30 minutes', async () => {
    const exp = NOW / 1000 + 900
    const jwt = `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`
    const fromJwt = provider(cli({ accessToken: jwt, expiresOn: '2030-01-01 00:00:00.000000' })).tokens
    await fromJwt.getToken()
    expect(fromJwt.expiresAt()).toBe(exp * 1000)
    const fromDate = provider(cli({ accessToken: 'opaque', expiresOn: '2026-11-23T11:00:00Z' })).tokens
    await fromDate.getToken()
    expect(fromDate.expiresAt()).toBe(NOW + 3600_000)
    const assumed = provider(cli({ accessToken: 'opaque' })).tokens
    await assumed.getToken()
    expect(assumed.expiresAt()).toBe(NOW + 30 * 60_000)
  })

  it('keeps the token until it is due for renewal, and asks again from then on', async () => {
    const { tokens, calls, clock } = provider(cli({ accessToken: 'az-token', expires_on: NOW / 1000 + 600 }))
    await tokens.getToken()
    // Renewed a tenth of its ten-minute lifetime early: at nine minutes.
    clock.advance(9 * 60_000 - 1)
    await tokens.getToken()
    expect(calls).toHaveLength(1)
    clock.advance(1)
    await tokens.getToken()
    expect(calls).toHaveLength(2)
  })

  it('fails clearly when az prints no token, or fails', async () => {
    await expect(provider(cli({ tokenType: 'Bearer' })).tokens.getToken()).rejects.toMatchObject({
      title: 'Azure CLI sign-in failed',
      message: '"az account get-access-token" printed no accessToken.'
    })
    await expect(
      provider({ ok: false, missing: false, message: '  ERROR: Please run az login.\nMore help here.\n' }).tokens.getToken()
    ).rejects.toMatchObject({
      title: 'Azure CLI sign-in failed',
      message: expect.stringMatching(/^"az account get-access-token" failed: ERROR: Please run az login\. Run azure\/login/)
    })
    await expect(provider({ ok: false, missing: true, message: 'az: not found' }).tokens.getToken()).rejects.toMatchObject({
      title: 'No credentials'
    })
  })
})

describe('an access token given as input', () => {
  it('is refused from the moment it expires, and used without limit when it shows no expiry', async () => {
    const clock = new ManualClock(NOW)
    const deps = {
      clock,
      logger: new RecordingLogger(),
      setSecret: () => undefined,
      getIDToken: async () => '',
      runAz: async (): Promise<AzResult> => ({ ok: false, missing: true, message: '' }),
      requester: undefined as unknown as Requester
    }
    const jwt = `e30.${Buffer.from(JSON.stringify({ exp: NOW / 1000 + 60 })).toString('base64url')}.sig`
    const expiring = createTokenProvider({ kind: 'accessToken', accessToken: jwt }, ENDPOINTS, deps)
    clock.advance(60_000 - 1)
    expect(await expiring.getToken()).toBe(jwt)
    clock.advance(1)
    await expect(expiring.getToken()).rejects.toMatchObject({ title: 'Access token expired' })
    const opaque = createTokenProvider({ kind: 'accessToken', accessToken: 'opaque' }, ENDPOINTS, deps)
    clock.advance(365 * 24 * 3600_000)
    expect(await opaque.getToken()).toBe('opaque')
  })
})

describe('an Azure CLI argument cmd.exe could read as a command', () => {
  const UNSAFE = ['&', '|', '^', '%', '"', '<', '>', ' ', '\n', '\r', '\t', '(', ')', '!', ';', ',', "'", '`', '$']

  it.each(UNSAFE.map(c => [JSON.stringify(c), c]))('is refused for %s', (_shown, c) => {
    expect(unsafeAzArgument(['account', 'get-access-token', '--resource', `https://x${c}calc.exe`])).toBe(
      `The Azure CLI was not started: its argument ${JSON.stringify(`https://x${c}calc.exe`)} holds a character other than letters, digits and - _ . : / = [ ], which cmd.exe (the shell that starts az on Windows) could read as a command.`
    )
  })

  it('is refused when empty, which a shell would drop', () => {
    expect(unsafeAzArgument(['account', ''])).toMatch(/^The Azure CLI was not started: its argument "" holds/)
  })

  it.each([
    'https://graph.microsoft.com',
    'https://management.usgovcloudapi.net',
    'http://127.0.0.1:8080',
    'https://localhost:1',
    'http://[::1]:9'
  ])('lets through the resource %s', resource => {
    expect(unsafeAzArgument(['account', 'get-access-token', '--resource', resource, '--output', 'json'])).toBeUndefined()
  })

  it.each(UNSAFE.map(c => [JSON.stringify(c), c]))(
    'in the resource (%s) fails the sign-in before az is started',
    async (_shown, c) => {
      const calls: string[][] = []
      const tokens = createTokenProvider(
        { kind: 'azureCli' },
        { resource: `https://x${c}calc.exe`, authorityHost: ENDPOINTS.authorityHost },
        {
          clock: new ManualClock(NOW),
          logger: new RecordingLogger(),
          setSecret: () => undefined,
          getIDToken: async () => '',
          runAz: async args => {
            calls.push(args)
            return { ok: true, stdout: JSON.stringify({ accessToken: 'az-token', expires_on: NOW / 1000 + 600 }) }
          },
          requester: undefined as unknown as Requester
        }
      )
      await expect(tokens.getToken()).rejects.toMatchObject({
        title: 'Azure CLI sign-in refused',
        message: expect.stringContaining(`its argument ${JSON.stringify(`https://x${c}calc.exe`)}`)
      })
      expect(calls).toEqual([])
    }
  )
})
