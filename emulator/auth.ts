import { createHash } from 'node:crypto'
import { errorReply, type Reply, type RequestContext } from './http-util.js'
import type { Random } from './random.js'
import type { ClientRegistration, GithubOidcOptions } from './types.js'

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const DEFAULT_TENANT = '00000000-0000-0000-0000-000000000001'
const DEFAULT_CLIENT = '00000000-0000-0000-0000-000000000002'
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'
const EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'

export interface MintOptions {
  audience: string
  tenantId?: string
  clientId?: string
  lifetimeSeconds: number
}

export interface TokenRequest {
  method: string
  tenant: string
  contentType: string | undefined
  body: string
}

export type TokenCheck = 'ok' | 'missing' | 'invalid' | 'expired' | 'wrongAudience'

/** What the authority remembers of a token it minted. */
export interface TokenClaims {
  audience: string
  tenantId: string
  clientId: string
  /** The object id of the app's service principal in the tenant. */
  objectId: string
  expiresAt: number
}

/** A stable object id per app and tenant, as a service principal keeps its own across tokens. */
function servicePrincipalId(tenantId: string, clientId: string): string {
  const h = createHash('sha256').update(`${tenantId.toLowerCase()}/${clientId.toLowerCase()}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

function bearerOf(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** JWT-shaped, so a client can read its claims; the signature is random because nobody verifies it. */
function jwt(kid: string, payload: object, random: Random): string {
  return [base64url({ typ: 'JWT', alg: 'RS256', kid }), base64url(payload), random.bytes(32).toString('base64url')].join('.')
}

/** Plays Entra's client-credentials token endpoint and remembers every token it minted. */
export class Authority {
  private readonly issued = new Map<string, TokenClaims>()

  /** `armAudience` tells a token for Azure Resource Manager, which carries no Graph application roles. */
  constructor(
    private readonly now: () => number,
    private readonly random: Random,
    private readonly clients: ClientRegistration[] | undefined,
    private readonly github: GithubIdTokens,
    private readonly armAudience: (audience: string) => boolean = () => false
  ) {}

  mint(o: MintOptions): string {
    const t = this.now()
    const expiresAt = t + o.lifetimeSeconds * 1000
    const tid = o.tenantId ?? DEFAULT_TENANT
    const appid = o.clientId ?? DEFAULT_CLIENT
    const oid = servicePrincipalId(tid, appid)
    const payload = {
      aud: o.audience,
      iss: `https://sts.windows.net/${tid}/`,
      iat: Math.floor(t / 1000),
      nbf: Math.floor(t / 1000),
      exp: Math.floor(expiresAt / 1000),
      appid,
      idtyp: 'app',
      oid,
      sub: oid,
      tid,
      ...(this.armAudience(o.audience) ? {} : { roles: ['CloudPC.ReadWrite.All'] }),
      uti: this.random.uuid()
    }
    const token = jwt('loopback', payload, this.random)
    this.issued.set(token, { audience: o.audience, tenantId: tid, clientId: appid, objectId: oid, expiresAt })
    return token
  }

  /** `accepts` tells whether the service asking takes a token for that audience. */
  check(authorization: string | undefined, accepts: (audience: string) => boolean = () => true): TokenCheck {
    const bearer = bearerOf(authorization)
    if (bearer === undefined) return 'missing'
    const claims = this.issued.get(bearer)
    if (claims === undefined) return 'invalid'
    if (this.now() >= claims.expiresAt) return 'expired'
    return accepts(claims.audience) ? 'ok' : 'wrongAudience'
  }

  /** The claims of the bearer token in `authorization`, when this authority minted it and has not revoked it. */
  claimsOf(authorization: string | undefined): TokenClaims | undefined {
    const bearer = bearerOf(authorization)
    return bearer === undefined ? undefined : this.issued.get(bearer)
  }

  revokeAll(): void {
    this.issued.clear()
  }

  /** `POST /{tenant}/oauth2/v2.0/token` with a form body. */
  tokenRequest(req: TokenRequest, lifetimeSeconds: number, ctx: RequestContext): Reply {
    const fail = (status: number, error: string, aadsts: number, message: string): Reply =>
      aadError(status, error, aadsts, message, ctx)
    const { tenant } = req
    if (req.method !== 'POST') {
      return fail(400, 'invalid_request', 900561, `The endpoint only accepts POST requests. Received a ${req.method} request.`)
    }
    // Entra reads form bodies only; any other content type leaves every parameter missing.
    const form = new URLSearchParams(/^application\/x-www-form-urlencoded\b/i.test(req.contentType ?? '') ? req.body : '')
    const missing = (['grant_type', 'client_id', 'scope'] as const).find(name => !form.get(name))
    if (missing)
      return fail(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${missing}'.`)
    const grantType = form.get('grant_type')
    const clientId = form.get('client_id') ?? ''
    const scope = form.get('scope') ?? ''
    const secret = form.get('client_secret')
    const assertion = form.get('client_assertion')
    if (grantType !== 'client_credentials') {
      return fail(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`)
    }
    if (!scope.endsWith('/.default')) {
      return fail(
        400,
        'invalid_scope',
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`
      )
    }
    if (assertion && form.get('client_assertion_type') !== JWT_BEARER) {
      return fail(400, 'invalid_request', 90014, "The required field 'client_assertion_type' is missing from the credential.")
    }
    if (!secret && !assertion) {
      return fail(
        400,
        'invalid_client',
        7000216,
        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."
      )
    }
    if (this.clients) {
      const reg = this.clients.find(
        c =>
          c.clientId.toLowerCase() === clientId.toLowerCase() &&
          (c.tenantId === undefined || c.tenantId.toLowerCase() === tenant.toLowerCase())
      )
      if (!reg) {
        return fail(
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`
        )
      }
      if (assertion && assertion !== reg.assertion) {
        const claims = this.github.claimsOf(assertion)
        if (claims && this.now() >= claims.exp * 1000)
          return fail(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.')
        const match =
          claims &&
          (reg.federated ?? []).some(
            f =>
              f.subject === claims.sub &&
              (f.issuer ?? GITHUB_ISSUER) === claims.iss &&
              (f.audience ?? EXCHANGE_AUDIENCE) === claims.aud
          )
        if (!match) {
          const seen = claims
            ? ` Assertion Issuer: '${claims.iss}'. Assertion Subject: '${claims.sub}'. Assertion Audience: '${claims.aud}'.`
            : ''
          return fail(400, 'invalid_client', 70021, `No matching federated identity record found for presented assertion.${seen}`)
        }
      }
      if (!assertion && secret !== reg.clientSecret) {
        return fail(
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`
        )
      }
    }
    const token = this.mint({ audience: scope.slice(0, -'/.default'.length), tenantId: tenant, clientId, lifetimeSeconds })
    return {
      status: 200,
      json: { token_type: 'Bearer', expires_in: lifetimeSeconds, ext_expires_in: lifetimeSeconds, access_token: token }
    }
  }
}

function aadError(status: number, error: string, aadsts: number, message: string, ctx: RequestContext): Reply {
  const timestamp = ctx.date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z')
  return {
    status,
    json: {
      error,
      error_description: `AADSTS${aadsts}: ${message} Trace ID: ${ctx.requestId} Correlation ID: ${ctx.clientRequestId} Timestamp: ${timestamp}`,
      error_codes: [aadsts],
      timestamp,
      trace_id: ctx.requestId,
      correlation_id: ctx.clientRequestId
    }
  }
}

/** Graph's answer to a request whose bearer token did not pass `check`. */
export function authFailure(check: Exclude<TokenCheck, 'ok'>): Reply {
  const message =
    check === 'expired'
      ? 'Lifetime validation failed, the token is expired.'
      : check === 'missing'
        ? 'Access token is empty or invalid.'
        : check === 'wrongAudience'
          ? 'Access token validation failure. Invalid audience.'
          : 'Access token validation failure: the token is invalid.'
  return errorReply(401, 'InvalidAuthenticationToken', message)
}

interface IdTokenClaims {
  iss: string
  sub: string
  aud: string
  exp: number
}

/** Plays the GitHub Actions ID token service: `GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=…`. */
export class GithubIdTokens {
  readonly issued: string[] = []
  private readonly claims = new Map<string, IdTokenClaims>()
  readonly requestToken: string

  constructor(
    private readonly now: () => number,
    private readonly random: Random,
    private readonly options: GithubOidcOptions = {}
  ) {
    this.requestToken = options.requestToken ?? random.bytes(24).toString('base64url')
  }

  /** Claims of an ID token this issuer minted; undefined for anything else (a forged or foreign token). */
  claimsOf(token: string): IdTokenClaims | undefined {
    return this.claims.get(token)
  }

  request(authorization: string | undefined, query: Record<string, string>): Reply {
    if (authorization !== `Bearer ${this.requestToken}`) return { status: 401, json: { message: 'Bad credentials' } }
    const t = this.now()
    const claims: IdTokenClaims = {
      iss: GITHUB_ISSUER,
      sub: this.options.subject ?? 'repo:contoso/cloudpc-images:ref:refs/heads/main',
      aud: query.audience ?? 'https://github.com/contoso',
      exp: Math.floor(t / 1000) + (this.options.lifetimeSeconds ?? 300)
    }
    const payload = {
      jti: this.random.uuid(),
      ...claims,
      nbf: Math.floor(t / 1000),
      iat: Math.floor(t / 1000),
      repository: 'contoso/cloudpc-images'
    }
    const token = jwt('github-loopback', payload, this.random)
    this.claims.set(token, claims)
    this.issued.push(token)
    return { status: 200, json: { count: this.issued.length, value: token } }
  }
}
