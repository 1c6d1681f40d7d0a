import { describe, expect, it } from '@jest/globals'
import {
  sendWithToken,
  type AzResult,
  createTokenProvider,
  interpretTokenAnswer,
  jwtClaims,
  jwtExpiry,
  MAX_TOKEN_LIFETIME_MS,
  readExpiresIn,
  renewAt,
  unsafeAzArgument
} from '../src/http/credentials.js'
import type { Exchange, Requester } from '../src/http/requester.js'
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
      value: {
        token: 't',
        expiresAt: NOW + 3600_000,
        note: 'expires_in "soon" is not a positive number of seconds: taken as 1h 0m.'
      }
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

describe('a token lifetime out of bounds', () => {
  const DAY = 24 * 3600_000

  it('is at most 24 hours, the longest Entra issues', () => {
    expect(MAX_TOKEN_LIFETIME_MS).toBe(DAY)
  })

  it.each([
    ['1e20', 1e20, DAY, 'expires_in 100000000000000000000 is beyond 24h 0m, the longest Entra issues: taken as 24h 0m.'],
    [
      'Infinity (1e400 in JSON)',
      Infinity,
      DAY,
      'expires_in Infinity is beyond 24h 0m, the longest Entra issues: taken as 24h 0m.'
    ],
    ['a day and a second', 86_401, DAY, 'expires_in 86401 is beyond 24h 0m, the longest Entra issues: taken as 24h 0m.'],
    ['a string of 1e20', '1e20', 3600_000, 'expires_in "1e20" is not a positive number of seconds: taken as 1h 0m.'],
    ['negative', -5, 3600_000, 'expires_in -5 is not a positive number of seconds: taken as 1h 0m.'],
    ['zero', 0, 3600_000, 'expires_in 0 is not a positive number of seconds: taken as 1h 0m.'],
    ['NaN', NaN, 3600_000, 'expires_in NaN is not a positive number of seconds: taken as 1h 0m.'],
    [
      'an object',
      { seconds: 3600 },
      3600_000,
      'expires_in {"seconds":3600} is not a positive number of seconds: taken as 1h 0m.'
    ],
    ['a list', [3600], 3600_000, 'expires_in [3600] is not a positive number of seconds: taken as 1h 0m.'],
    ['true', true, 3600_000, 'expires_in true is not a positive number of seconds: taken as 1h 0m.'],
    ['missing', undefined, 3600_000, 'expires_in missing is not a positive number of seconds: taken as 1h 0m.'],
    [
      'a long text',
      'x'.repeat(100),
      3600_000,
      `expires_in "${'x'.repeat(39)}… is not a positive number of seconds: taken as 1h 0m.`
    ]
  ])('%s is read as a bounded lifetime, with a note', (_what, value, lifetimeMs, note) => {
    expect(readExpiresIn(value)).toEqual({ lifetimeMs, note })
  })

  it.each([
    [86_400, DAY],
    ['3599', 3599_000],
    [0.5, 500]
  ])('%j is taken as given', (value, lifetimeMs) => {
    expect(readExpiresIn(value)).toEqual({ lifetimeMs })
  })

  it.each(['1e20', '1e400', '-1', '{"s":1}', '"1e20"'])(
    'in a token answer (%s) gives a token valid until a real date',
    expires => {
      const tried = interpretTokenAnswer(answer(200, `{"access_token":"t","expires_in":${expires}}`), NOW, ENDPOINTS)
      if (tried.kind !== 'done') throw new Error('expected a token')
      expect(tried.value.expiresAt - NOW).toBeGreaterThan(0)
      expect(tried.value.expiresAt - NOW).toBeLessThanOrEqual(DAY)
      expect(new Date(tried.value.expiresAt).toISOString()).toMatch(/^2026-11-2[34]T/)
    }
  )

  it.each([
    ['not a string', '{"access_token":{"t":1}}'],
    ['a number', '{"access_token":12345}'],
    ['a line break', '{"access_token":"a\\nb"}'],
    ['a space', '{"access_token":"a b"}'],
    ['a non-ASCII character', '{"access_token":"t\u00e9"}']
  ])('an access_token that is %s is no token', (_what, body) => {
    const tried = interpretTokenAnswer(answer(200, body), NOW, ENDPOINTS)
    expect(tried).toMatchObject({ kind: 'failed', attempt: { kind: 'network', error: 'other' } })
    if (tried.kind === 'failed')
      expect(tried.error().message).toBe('The token endpoint kept answering 200 without a readable access_token.')
  })
})

describe('an Azure CLI expiry out of bounds', () => {
  function cli(printed: object, clock = new ManualClock(NOW)) {
    const logger = new RecordingLogger()
    const tokens = createTokenProvider({ kind: 'azureCli' }, ENDPOINTS, {
      clock,
      logger,
      setSecret: () => undefined,
      getIDToken: async () => '',
      runAz: async () => ({ ok: true, stdout: JSON.stringify(printed) }),
      requester: undefined as unknown as Requester
    })
    return { tokens, logger }
  }
  const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

  it.each([
    ['expires_on 1e20', { accessToken: 'opaque', expires_on: 1e20 }, NOW + 24 * 3600_000],
    ['expires_on "1e20"', { accessToken: 'opaque', expires_on: '1e20' }, NOW + 30 * 60_000],
    ['expires_on that is not a number', { accessToken: 'opaque', expires_on: 'soon' }, NOW + 30 * 60_000],
    ['expires_on negative', { accessToken: 'opaque', expires_on: -1e20 }, NOW + 30 * 60_000],
    ['expires_on an object', { accessToken: 'opaque', expires_on: { s: 1 } }, NOW + 30 * 60_000],
    ['expiresOn far away', { accessToken: 'opaque', expiresOn: '9999-12-31 00:00:00.000000' }, NOW + 24 * 3600_000],
    ['expiresOn not a date', { accessToken: 'opaque', expiresOn: 'tomorrow' }, NOW + 30 * 60_000],
    ['exp far away', { accessToken: jwt({ exp: 1e20 }) }, NOW + 30 * 60_000],
    ['exp 1e12 seconds', { accessToken: jwt({ exp: 1e12 }) }, NOW + 24 * 3600_000]
  ])('%s gives a bounded expiry, with a debug note', async (_what, printed, expiresAt) => {
    const { tokens, logger } = cli(printed)
    expect(await tokens.getToken()).toBe(printed.accessToken)
    expect(tokens.expiresAt()).toBe(expiresAt)
    expect(logger.of('debug').map(l => l.message)).toContainEqual(
      expect.stringMatching(
        /^The Azure CLI session: "az account get-access-token" printed (no expiry after now|an expiry beyond 24h 0m)/
      )
    )
  })

  it('skips an expires_on in the past for the next time it can read', async () => {
    const { tokens, logger } = cli({ accessToken: jwt({ exp: NOW / 1000 + 900 }), expires_on: NOW / 1000 - 60 })
    await tokens.getToken()
    expect(tokens.expiresAt()).toBe(NOW + 900_000)
    expect(logger.of('debug').map(l => l.message)).not.toContainEqual(expect.stringContaining('printed'))
  })

  it.each([
    ['an object', { t: 1 }],
    ['a number', 12345],
    ['a line break', 'a\nb']
  ])('an accessToken that is %s fails clearly', async (_what, accessToken) => {
    await expect(cli({ accessToken, expires_on: NOW / 1000 + 600 }).tokens.getToken()).rejects.toMatchObject({
      title: 'Azure CLI sign-in failed',
      message:
        '"az account get-access-token" printed an accessToken that is not a token (expected a string of visible ASCII characters).'
    })
  })
})

describe('a JWT exp that is no time', () => {
  it.each([1e20, -1e20, 1e300])('%d is no expiry, and the token is used until Graph refuses it', async exp => {
    const token = `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`
    expect(jwtExpiry(token)).toBeUndefined()
    const given = createTokenProvider({ kind: 'accessToken', accessToken: token }, ENDPOINTS, {
      clock: new ManualClock(NOW),
      logger: new RecordingLogger(),
      setSecret: () => undefined,
      getIDToken: async () => '',
      runAz: async (): Promise<AzResult> => ({ ok: false, missing: true, message: '' }),
      requester: undefined as unknown as Requester
    })
    expect(await given.getToken()).toBe(token)
    expect(given.expiresAt()).toBeUndefined()
  })
})

describe('the GitHub ID token answer', () => {
  it.each([
    ['an object', { sub: 'x' }],
    ['a number', 12345],
    ['not a JWT', 'opaque-value'],
    ['a JWT without a signature', 'e30.e30.'],
    ['a JWT with a line break', 'e30.e30.sig\nmore']
  ])('that is %s fails clearly before anything is sent to Entra', async (_what, idToken) => {
    const sent: string[] = []
    const tokens = createTokenProvider(
      { kind: 'oidc', tenantId: 'contoso.onmicrosoft.com', clientId: 'app', audience: 'api://AzureADTokenExchange' },
      ENDPOINTS,
      {
        clock: new ManualClock(NOW),
        logger: new RecordingLogger(),
        setSecret: () => undefined,
        getIDToken: async () => idToken as string,
        runAz: async (): Promise<AzResult> => ({ ok: false, missing: true, message: '' }),
        requester: {
          retrying: async (request: { url: string }) => {
            sent.push(request.url)
            throw new Error('no request expected')
          }
        } as unknown as Requester
      }
    )
    await expect(tokens.getToken()).rejects.toMatchObject({
      title: 'GitHub OIDC token unavailable',
      message:
        'The runner answered the GitHub OIDC ID token request without a readable token (expected a signed JWT). Run the job again; if it persists, sign in with clientSecret or accessToken instead.'
    })
    expect(sent).toEqual([])
  })
})

describe('a send with a token', () => {
  const answer = (status: number): { exchange: Exchange } => ({ exchange: { kind: 'response', status, headers: {}, text: '' } })
  const provider = (renewable: boolean) => {
    let n = 0
    const invalidated: number[] = []
    return {
      invalidated,
      tokens: {
        description: 'test',
        renewable,
        getToken: async () => `token-${++n}`,
        invalidate: () => void invalidated.push(n),
        expiresAt: () => undefined
      }
    }
  }

  it('renews the token once after a 401 and sends again, then the answer stands', async () => {
    const { tokens, invalidated } = provider(true)
    const sent: string[] = []
    const renewed: string[] = []
    const result = await sendWithToken(
      tokens,
      0,
      async token => (sent.push(token), answer(401)),
      () => renewed.push('renewed')
    )
    expect(sent).toEqual(['token-1', 'token-2'])
    expect(invalidated).toEqual([1])
    expect(renewed).toEqual(['renewed'])
    expect(result.exchange).toMatchObject({ status: 401 })
  })

  it('sends once when the answer is not a 401, or the token cannot be renewed', async () => {
    for (const [renewable, status] of [
      [true, 200],
      [true, 403],
      [false, 401]
    ] as const) {
      const { tokens, invalidated } = provider(renewable)
      const sent: string[] = []
      await sendWithToken(tokens, 0, async token => (sent.push(token), answer(status)))
      expect({ renewable, status, sent, invalidated }).toEqual({ renewable, status, sent: ['token-1'], invalidated: [] })
    }
  })
})
