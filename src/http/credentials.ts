// Turns the configured sign-in into access tokens for one resource (Graph, or Azure Resource Manager
// for the preflight), and keeps a token valid through a long wait: cached, renewed ahead of expiry,
// renewed again when the resource answers 401. Tokens go only to the authority host (to get them)
// and to their resource (to use them).

import type { Clock } from '../core/clock.js'
import { formatDuration } from '../core/duration.js'
import { ActionError, messageOf } from '../core/errors.js'
import type { CredentialSettings } from '../inputs.js'
import type { Logger } from '../core/logger.js'
import type { Exchange, Requester, Tried } from './requester.js'
import { parseJson } from './json.js'
import { textOf } from '../core/untrusted-text.js'

export interface TokenProvider {
  readonly description: string
  /** False for a token handed in as `accessToken`: nothing can renew it. */
  readonly renewable: boolean
  /** A valid token; a request for a new one is retried until `deadline` (default: the step budget). */
  getToken(deadline?: number): Promise<string>
  /** Forgets the cached token so the next `getToken` fetches a new one. */
  invalidate(): void
  /** When the current token expires (ms since the epoch), if known. */
  expiresAt(): number | undefined
}

/**
 * Sends with a token from `tokens`. A token can be revoked or expire early: a 401 renews it once and
 * sends again, then the answer stands. `onRenew` says so in the log.
 */
export async function sendWithToken<S extends { exchange: Exchange }>(
  tokens: TokenProvider,
  deadline: number,
  send: (token: string) => Promise<S>,
  onRenew?: () => void
): Promise<S> {
  const sent = await send(await tokens.getToken(deadline))
  if (sent.exchange.kind !== 'response' || sent.exchange.status !== 401 || !tokens.renewable) return sent
  tokens.invalidate()
  onRenew?.()
  return send(await tokens.getToken(deadline))
}

export type AzResult = { ok: true; stdout: string } | { ok: false; missing: boolean; message: string }

export interface CredentialDeps {
  clock: Clock
  logger: Logger
  setSecret(value: string): void
  getIDToken(audience: string): Promise<string>
  runAz(args: string[]): Promise<AzResult>
  /** The one retry path, shared with Graph requests. */
  requester: Requester
}

export interface CredentialEndpoints {
  /** The root URL of the resource the tokens are for: the scope is `{resource}/.default`. */
  resource: string
  authorityHost: string
}

const MAX_RENEW_MARGIN_MS = 5 * 60_000
/**
 * The longest a token is taken to live: 24 hours, the most Entra's configurable token lifetimes allow.
 * A longer claim is cut to this, so the token is renewed within a day whatever an answer says.
 */
export const MAX_TOKEN_LIFETIME_MS = 24 * 3600_000
/** Taken when a token answer gives no usable lifetime: the hour the action always assumed (Entra issues 60-90 minutes). */
const DEFAULT_TOKEN_LIFETIME_MS = 3600_000
/** Taken when the Azure CLI prints no usable expiry: shorter, as its session may be part-used. */
const DEFAULT_CLI_TOKEN_LIFETIME_MS = 30 * 60_000
/** The latest time a Date can hold; an `exp` beyond it is no expiry at all. */
const MAX_TIME_MS = 8.64e15
/** Enough of an unusable value to recognise it in the debug log. */
const MAX_SHOWN_VALUE_CHARS = 40
/** What a bearer token may hold: visible ASCII, which a header carries as is (a JWT is base64url and dots). */
const BEARER_TOKEN = /^[\x21-\x7e]+$/
/** A signed JWT: three base64url parts, as GitHub's ID tokens are. */
const SIGNED_JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/

/** Renew a little before expiry: 10 % of the lifetime, at most five minutes. */
export function renewAt(issuedAt: number, expiresAt: number): number {
  return expiresAt - Math.min(MAX_RENEW_MARGIN_MS, (expiresAt - issuedAt) / 10)
}

/** Reads `exp` from a JWT without verifying it; undefined for anything that is not one, or not a time. */
export function jwtExpiry(token: string): number | undefined {
  const exp = jwtClaims(token)?.exp
  return typeof exp === 'number' && Math.abs(exp * 1000) <= MAX_TIME_MS ? exp * 1000 : undefined
}

/**
 * A token's lifetime from the `expires_in` of a token answer: seconds, a number or a string of digits,
 * within (0, MAX_TOKEN_LIFETIME_MS]. A longer one is cut to that bound; a missing, zero, negative or
 * unreadable one is taken as DEFAULT_TOKEN_LIFETIME_MS (a 401 renews a token that dies sooner). Pure.
 */
export function readExpiresIn(value: unknown): { lifetimeMs: number; note?: string } {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN
  if (!(seconds > 0))
    return {
      lifetimeMs: DEFAULT_TOKEN_LIFETIME_MS,
      note: `expires_in ${shown(value)} is not a positive number of seconds: taken as ${formatDuration(DEFAULT_TOKEN_LIFETIME_MS)}.`
    }
  if (seconds * 1000 > MAX_TOKEN_LIFETIME_MS)
    return {
      lifetimeMs: MAX_TOKEN_LIFETIME_MS,
      note: `expires_in ${shown(value)} is beyond ${formatDuration(MAX_TOKEN_LIFETIME_MS)}, the longest Entra issues: taken as ${formatDuration(MAX_TOKEN_LIFETIME_MS)}.`
    }
  return { lifetimeMs: seconds * 1000 }
}

/**
 * When a token the Azure CLI printed at `now` expires: the first of `expires_on` (seconds since the
 * epoch), the token's `exp` and `expiresOn` that lies after now, cut to MAX_TOKEN_LIFETIME_MS; none:
 * DEFAULT_CLI_TOKEN_LIFETIME_MS. Pure.
 */
export function cliTokenExpiry(
  now: number,
  printed: { accessToken: string; expires_on?: unknown; expiresOn?: unknown }
): { expiresAt: number; note?: string } {
  const epochSeconds = printed.expires_on
  const fromEpoch =
    typeof epochSeconds === 'number' || (typeof epochSeconds === 'string' && /^\d+$/.test(epochSeconds))
      ? Number(epochSeconds) * 1000
      : NaN
  const fromDate = typeof printed.expiresOn === 'string' ? Date.parse(printed.expiresOn) : NaN
  const expiresAt = [fromEpoch, jwtExpiry(printed.accessToken) ?? NaN, fromDate].find(at => at > now)
  if (expiresAt === undefined)
    return {
      expiresAt: now + DEFAULT_CLI_TOKEN_LIFETIME_MS,
      note: `"az account get-access-token" printed no expiry after now (expires_on ${shown(printed.expires_on)}, expiresOn ${shown(printed.expiresOn)}): taken as ${formatDuration(DEFAULT_CLI_TOKEN_LIFETIME_MS)}.`
    }
  if (expiresAt - now > MAX_TOKEN_LIFETIME_MS)
    return {
      expiresAt: now + MAX_TOKEN_LIFETIME_MS,
      note: `"az account get-access-token" printed an expiry beyond ${formatDuration(MAX_TOKEN_LIFETIME_MS)}, the longest Entra issues: taken as ${formatDuration(MAX_TOKEN_LIFETIME_MS)}.`
    }
  return { expiresAt }
}

/** A value from an answer, short and on one line, for a debug note. */
function shown(value: unknown): string {
  if (value === undefined) return 'missing'
  // JSON would write Infinity and NaN as null.
  const text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? textOf(value))
  return text.length > MAX_SHOWN_VALUE_CHARS ? `${text.slice(0, MAX_SHOWN_VALUE_CHARS)}…` : text
}

export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

export function createTokenProvider(
  credentials: CredentialSettings,
  endpoints: CredentialEndpoints,
  deps: CredentialDeps
): TokenProvider {
  switch (credentials.kind) {
    case 'accessToken':
      return staticToken(credentials.accessToken, deps)
    case 'clientSecret':
      return cachedToken(`client secret of app ${credentials.clientId}`, deps, deadline =>
        requestEntraToken(
          endpoints,
          credentials.tenantId,
          credentials.clientId,
          { client_secret: credentials.clientSecret },
          deps,
          deadline
        )
      )
    case 'oidc':
      return cachedToken(`GitHub OIDC federated credential of app ${credentials.clientId}`, deps, async deadline => {
        // GitHub's ID token lives about ten minutes: fetch a fresh one for every exchange.
        const assertion = await githubIdToken(credentials.audience, deps)
        return requestEntraToken(
          endpoints,
          credentials.tenantId,
          credentials.clientId,
          { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion },
          deps,
          deadline,
          assertion
        )
      })
    case 'azureCli':
      return cachedToken('Azure CLI session', deps, () => azCliToken(endpoints.resource, deps))
  }
}

export interface IssuedToken {
  token: string
  expiresAt: number
  /** Why `expiresAt` is not what the answer said, for the debug log. */
  note?: string
}

function staticToken(token: string, deps: CredentialDeps): TokenProvider {
  const expiry = jwtExpiry(token)
  return {
    description: 'accessToken input',
    renewable: false,
    expiresAt: () => expiry,
    invalidate: () => undefined,
    getToken() {
      // A token without a readable expiry is used until Graph refuses it.
      if (deps.clock.now() >= (expiry ?? Infinity))
        return Promise.reject(
          new ActionError(
            'Access token expired',
            `The token given as accessToken expired at ${new Date(expiry!).toISOString()} and cannot be renewed. Sign in with clientSecret or a GitHub OIDC federated credential (tenantId and clientId) for long waits.`
          )
        )
      return Promise.resolve(token)
    }
  }
}

function cachedToken(
  description: string,
  deps: CredentialDeps,
  fetch: (deadline: number | undefined) => Promise<IssuedToken>
): TokenProvider {
  let current: (IssuedToken & { renewAt: number }) | undefined
  let inflight: Promise<IssuedToken> | undefined
  return {
    description,
    renewable: true,
    expiresAt: () => current?.expiresAt,
    invalidate: () => {
      current = undefined
    },
    async getToken(deadline) {
      if (current && deps.clock.now() < current.renewAt) return current.token
      // Concurrent callers (the roll-out) share one token request, bounded by the first caller's deadline.
      inflight ??= (async () => {
        const issuedAt = deps.clock.now()
        const issued = await fetch(deadline)
        // Masked before anything can use or print it.
        deps.setSecret(issued.token)
        current = { ...issued, renewAt: renewAt(issuedAt, issued.expiresAt) }
        if (issued.note) deps.logger.debug(`The ${description}: ${issued.note}`)
        deps.logger.debug(`Got a token from the ${description}, valid until ${new Date(issued.expiresAt).toISOString()}.`)
        return issued
      })().finally(() => {
        inflight = undefined
      })
      return (await inflight).token
    }
  }
}

async function githubIdToken(audience: string, deps: CredentialDeps): Promise<string> {
  let token: unknown
  try {
    token = await deps.getIDToken(audience)
  } catch (error) {
    const reason = messageOf(error)
    throw new ActionError(
      'GitHub OIDC token unavailable',
      `Could not get a GitHub OIDC ID token (${reason}). Grant the job "permissions: id-token: write" to sign in with a federated credential, or give clientSecret or accessToken instead.`
    )
  }
  // The runner's answer is read as JSON: its `value` may be anything, and only a JWT is sent on.
  if (typeof token === 'string' && token !== '') deps.setSecret(token)
  if (typeof token !== 'string' || !SIGNED_JWT.test(token))
    throw new ActionError(
      'GitHub OIDC token unavailable',
      'The runner answered the GitHub OIDC ID token request without a readable token (expected a signed JWT). Run the job again; if it persists, sign in with clientSecret or accessToken instead.'
    )
  return token
}

interface EntraError {
  error?: unknown
  error_description?: unknown
  error_codes?: unknown
  trace_id?: unknown
  correlation_id?: unknown
}

const AADSTS_HINTS: Record<string, string> = {
  '700016': 'The application (clientId) does not exist in this tenant: check clientId and tenantId.',
  '7000215': 'The client secret is wrong: check the clientSecret secret (use the secret value, not its ID).',
  '7000222': 'The client secret has expired: create a new one in the app registration.',
  '70021':
    'No federated credential of the app matches the token GitHub sent: add one whose subject matches the repository and the branch, tag or environment of this job.',
  '700024': 'The GitHub ID token was not valid at the time of the exchange.',
  '90002': 'The tenant was not found: check tenantId.',
  '900023': 'The tenant was not found: check tenantId.',
  '70011': 'The scope is not valid for this cloud: check cloud, graphEndpoint and armEndpoint.'
}

async function requestEntraToken(
  endpoints: CredentialEndpoints,
  tenantId: string,
  clientId: string,
  secretFields: Record<string, string>,
  deps: CredentialDeps,
  deadline: number | undefined,
  assertion?: string
): Promise<IssuedToken> {
  const url = `${endpoints.authorityHost}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`
  const form = new URLSearchParams({
    client_id: clientId,
    grant_type: 'client_credentials',
    scope: `${endpoints.resource}/.default`,
    ...secretFields
  }).toString()
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }
  // A token request changes nothing, so it is as safe to repeat as a read.
  const path = `token request to ${endpoints.authorityHost}`
  const due = deadline ?? deps.requester.stepDeadline()
  return deps.requester.retrying({ kind: 'read', method: 'POST', path, url, deadline: due }, async () => {
    const exchange = await deps.requester.exchange('POST', url, form, headers, { deadline: due, answer: 'token' })
    return interpretTokenAnswer(exchange, deps.clock.now(), endpoints, assertion)
  })
}

/** What the token endpoint's answer means: a token, a failure to weigh, or the sign-in error. Pure. */
export function interpretTokenAnswer(
  exchange: Exchange,
  now: number,
  endpoints: Pick<CredentialEndpoints, 'authorityHost'>,
  assertion?: string
): Tried<IssuedToken> {
  if (exchange.kind === 'network')
    return {
      kind: 'failed',
      attempt: { kind: 'network', error: exchange.error },
      what: exchange.message,
      error: () => new ActionError('Sign-in failed', `Could not reach ${endpoints.authorityHost}: ${exchange.message}.`)
    }
  const { status, text } = exchange
  const body = status === 200 ? safeJson<{ access_token?: unknown; expires_in?: unknown }>(text) : undefined
  if (typeof body?.access_token === 'string' && BEARER_TOKEN.test(body.access_token)) {
    const { lifetimeMs, note } = readExpiresIn(body.expires_in)
    return { kind: 'done', value: { token: body.access_token, expiresAt: now + lifetimeMs, ...(note ? { note } : {}) } }
  }
  // A 200 without a readable token is as transient as a lost answer.
  if (status === 200)
    return {
      kind: 'failed',
      attempt: { kind: 'network', error: 'other' },
      what: 'HTTP 200 without a readable token',
      error: () => new ActionError('Sign-in failed', 'The token endpoint kept answering 200 without a readable access_token.')
    }
  const retryAfter = exchange.headers['retry-after']
  return {
    kind: 'failed',
    attempt: { kind: 'response', status, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter },
    what: `HTTP ${status}`,
    error: () => entraError(status, safeJson<EntraError>(text), assertion)
  }
}

function entraError(status: number, body: EntraError | undefined, assertion?: string): ActionError {
  // Only an Entra-shaped body has these as strings; a proxy or gateway may answer with anything.
  const description = (typeof body?.error_description === 'string' ? body.error_description : '').split(/\r?\n/)[0]
  const codes = Array.isArray(body?.error_codes) ? body.error_codes : []
  const aadsts = /AADSTS(\d+)/.exec(description)?.[1] ?? (typeof codes[0] === 'number' ? String(codes[0]) : undefined)
  const error = typeof body?.error === 'string' ? ` ${body.error}` : ''
  const parts = [`The token endpoint answered HTTP ${status}${error}: ${description || 'no description'}`]
  if (aadsts && AADSTS_HINTS[aadsts]) parts.push(AADSTS_HINTS[aadsts])
  if (aadsts === '70021' && assertion) {
    const claims = jwtClaims(assertion)
    if (claims?.sub) parts.push(`GitHub sent the subject "${textOf(claims.sub)}" (issuer ${textOf(claims.iss ?? 'unknown')}).`)
  }
  const id = (value: unknown) => (typeof value === 'string' ? value : 'none')
  parts.push(`trace_id: ${id(body?.trace_id)}; correlation_id: ${id(body?.correlation_id)}`)
  return new ActionError(`Sign-in failed${aadsts ? `: AADSTS${aadsts}` : ''}`, parts.join(' '))
}

/**
 * What an Azure CLI argument may hold. On Windows az is a batch script, which only cmd.exe can start, and
 * Node hands cmd.exe the arguments unquoted: & | < > ^ % ! " ( ), white space and line breaks would be
 * read as commands. Letters, digits and - _ . : / = [ ] (enough for a URL origin, [::1] included) are plain
 * words to it.
 */
const AZ_SAFE_ARGUMENT = /^[A-Za-z0-9\-_.:/=[\]]+$/

/** Why the Azure CLI must not be started with `args`, or undefined when each is a plain word. Pure. */
export function unsafeAzArgument(args: readonly string[]): string | undefined {
  const unsafe = args.find(arg => !AZ_SAFE_ARGUMENT.test(arg))
  if (unsafe === undefined) return undefined
  return `The Azure CLI was not started: its argument ${JSON.stringify(unsafe)} holds a character other than letters, digits and - _ . : / = [ ], which cmd.exe (the shell that starts az on Windows) could read as a command.`
}

async function azCliToken(resource: string, deps: CredentialDeps): Promise<IssuedToken> {
  const args = ['account', 'get-access-token', '--resource', resource, '--output', 'json']
  // Checked here, before anything is started, whatever runAz does itself.
  const unsafe = unsafeAzArgument(args)
  if (unsafe) throw new ActionError('Azure CLI sign-in refused', unsafe)
  const result = await deps.runAz(args)
  if (!result.ok) {
    if (result.missing) throw noCredentials()
    throw new ActionError(
      'Azure CLI sign-in failed',
      `"az account get-access-token" failed: ${result.message.trim().split(/\r?\n/)[0].replace(/\.$/, '')}. Run azure/login earlier in the job, or give the action its own credentials.`
    )
  }
  const body = safeJson<{ accessToken?: unknown; expires_on?: unknown; expiresOn?: unknown }>(result.stdout)
  const accessToken = body?.accessToken
  if (accessToken === undefined || accessToken === null || accessToken === '')
    throw new ActionError('Azure CLI sign-in failed', '"az account get-access-token" printed no accessToken.')
  if (typeof accessToken !== 'string' || !BEARER_TOKEN.test(accessToken))
    throw new ActionError(
      'Azure CLI sign-in failed',
      '"az account get-access-token" printed an accessToken that is not a token (expected a string of visible ASCII characters).'
    )
  return { token: accessToken, ...cliTokenExpiry(deps.clock.now(), { ...body, accessToken }) }
}

function noCredentials(): ActionError {
  return new ActionError(
    'No credentials',
    'No way to sign in to Microsoft Graph was given. Use one of: tenantId + clientId with "permissions: id-token: write" (GitHub OIDC federated credential, recommended); tenantId + clientId + clientSecret; an azure/login step earlier in the job (Azure CLI session); or accessToken.'
  )
}

function safeJson<T>(text: string): T | undefined {
  const parsed = parseJson<T>(text)
  return parsed.ok ? parsed.value : undefined
}
