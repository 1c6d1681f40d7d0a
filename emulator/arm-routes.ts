import type { TokenCheck, TokenClaims } from './auth.js'
import { decodePathSegment, errorReply, type Reply } from './http-util.js'
import type { ArmStore } from './state.js'
import type { ArmResourceKind, ArmResourceRef, Knobs } from './types.js'

export interface ArmEnv {
  store: ArmStore
  knobs: Knobs
  /** Origin of the emulator's authority, for the authorization_uri of a 401. */
  authorityUrl: string
}

export interface ArmRequest {
  method: string
  /** The resource path, without query. */
  path: string
  query: Record<string, string>
  /** Who the bearer token says is calling; it has passed `Authority.check`. */
  caller: TokenClaims
}

export interface MatchedArmRoute {
  /** Name recorded in the request log, e.g. 'arm.images.get'. */
  name: string
  handle(env: ArmEnv, req: ArmRequest): Reply
}

interface ArmType {
  route: string
  /** The resource type as `type` renders it. */
  type: string
  /** The type path below the namespace, keywords only. */
  segments: string[]
  /** The api-versions ARM knows for the type. */
  apiVersions: string[]
}

// The api-versions of the Compute resource provider's images and of the gallery resource provider
// (Images - Get, Gallery Images - Get, Gallery Image Versions - Get in the Azure REST reference).
const COMPUTE_API_VERSIONS = [
  '2016-04-30-preview',
  '2017-03-30',
  '2017-12-01',
  '2018-04-01',
  '2018-06-01',
  '2018-10-01',
  '2019-03-01',
  '2019-07-01',
  '2019-12-01',
  '2020-06-01',
  '2020-12-01',
  '2021-03-01',
  '2021-04-01',
  '2021-07-01',
  '2021-11-01',
  '2022-03-01',
  '2022-08-01',
  '2022-11-01',
  '2023-03-01',
  '2023-07-01',
  '2023-09-01',
  '2024-03-01',
  '2024-07-01',
  '2024-11-01',
  '2025-04-01'
]
const GALLERY_API_VERSIONS = [
  '2018-06-01',
  '2019-03-01',
  '2019-07-01',
  '2019-12-01',
  '2020-09-30',
  '2021-07-01',
  '2021-10-01',
  '2022-01-03',
  '2022-03-03',
  '2022-08-03',
  '2023-07-03',
  '2024-03-03'
]

const NAMESPACE = 'Microsoft.Compute'

const TYPES: Record<ArmResourceKind, ArmType> = {
  image: {
    route: 'arm.images.get',
    type: 'Microsoft.Compute/images',
    segments: ['images'],
    apiVersions: COMPUTE_API_VERSIONS
  },
  galleryImage: {
    route: 'arm.galleryImages.get',
    type: 'Microsoft.Compute/galleries/images',
    segments: ['galleries', 'images'],
    apiVersions: GALLERY_API_VERSIONS
  },
  galleryImageVersion: {
    route: 'arm.galleryImageVersions.get',
    type: 'Microsoft.Compute/galleries/images/versions',
    segments: ['galleries', 'images', 'versions'],
    apiVersions: GALLERY_API_VERSIONS
  }
}

/** Every route name the ARM server serves, with the resource type it reads. */
export const SERVED_ARM_ROUTES: { name: string; method: 'GET'; type: string; apiVersions: string[] }[] = Object.values(TYPES).map(
  t => ({ name: t.route, method: 'GET', type: t.type, apiVersions: [...t.apiVersions] })
)

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The tenant a subscription is in when knob armAccess is 'otherTenant'. */
const SUBSCRIPTION_TENANT = '00000000-0000-0000-0000-0000000000f7'

type ParsedPath =
  { kind: 'resource'; ref: ArmResourceRef } | { kind: 'unknownType'; namespace: string; type: string } | { kind: 'none' }

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

/**
 * Takes a resource path apart. Keywords compare case-insensitively, as ARM compares them; names are
 * kept as given.
 */
function parsePath(path: string): ParsedPath {
  const s = path
    .split('/')
    .filter(p => p !== '')
    .map(decodePathSegment)
  const [subscriptions, subscriptionId, resourceGroups, resourceGroup, providers, namespace, ...rest] = s
  if (
    subscriptions === undefined ||
    !same(subscriptions, 'subscriptions') ||
    resourceGroups === undefined ||
    !same(resourceGroups, 'resourceGroups') ||
    providers === undefined ||
    !same(providers, 'providers') ||
    namespace === undefined ||
    rest.length === 0
  )
    return { kind: 'none' }
  const typeSegments = rest.filter((_, i) => i % 2 === 0)
  const names = rest.filter((_, i) => i % 2 === 1)
  const kind = (Object.keys(TYPES) as ArmResourceKind[]).find(
    k =>
      same(namespace, NAMESPACE) &&
      names.length === typeSegments.length &&
      TYPES[k].segments.length === typeSegments.length &&
      TYPES[k].segments.every((t, i) => same(t, typeSegments[i]))
  )
  if (kind === undefined) return { kind: 'unknownType', namespace, type: typeSegments.join('/') }
  const typePath = TYPES[kind].segments.map((t, i) => `${t}/${names[i]}`).join('/')
  return {
    kind: 'resource',
    ref: {
      kind,
      subscriptionId,
      resourceGroup,
      names,
      id: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${NAMESPACE}/${typePath}`
    }
  }
}

/** A seed's or a test's resource ID, taken apart; undefined when it is not one of the types served. */
export function parseArmResourceId(id: string): ArmResourceRef | undefined {
  const parsed = parsePath(id)
  return parsed.kind === 'resource' ? parsed.ref : undefined
}

/** `Microsoft.Compute/galleries/{g}/images/{def}`: how ARM names a resource in a 404. */
function qualifiedName(ref: ArmResourceRef): string {
  return [NAMESPACE, ...TYPES[ref.kind].segments.map((t, i) => `${t}/${ref.names[i]}`)].join('/')
}

function notFound(ref: ArmResourceRef): Reply {
  return errorReply(
    404,
    'ResourceNotFound',
    `The Resource '${qualifiedName(ref)}' under resource group '${ref.resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`
  )
}

function forbidden(ref: ArmResourceRef, scope: string, caller: TokenClaims): Reply {
  return errorReply(
    403,
    'AuthorizationFailed',
    `The client '${caller.clientId}' with object id '${caller.objectId}' does not have authorization to perform action '${TYPES[ref.kind].type}/read' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
  )
}

function wwwAuthenticate(authorizationUri: string, description: string): Record<string, string> {
  return {
    'www-authenticate': `Bearer authorization_uri="${authorizationUri}", error="invalid_token", error_description="${description}"`
  }
}

function otherTenant(env: ArmEnv, caller: TokenClaims): Reply {
  const authority = `${env.authorityUrl}/${SUBSCRIPTION_TENANT}`
  const message = `The access token is from the wrong issuer 'https://sts.windows.net/${caller.tenantId}/'. It must match the tenant 'https://sts.windows.net/${SUBSCRIPTION_TENANT}/' associated with this subscription. Please use the authority (URL) '${authority}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`
  return errorReply(401, 'InvalidAuthenticationTokenTenant', message, wwwAuthenticate(authority, message))
}

/** .NET's invariant spelling, which ARM's expiry message uses: 3/1/2026 9:05:00 AM. */
function utcTime(ms: number): string {
  const d = new Date(ms)
  const h = d.getUTCHours()
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`
}

/** ARM's answer to a request whose bearer token did not pass `Authority.check` with ARM's audience. */
export function armAuthFailure(
  check: Exclude<TokenCheck, 'ok'>,
  authorization: string | undefined,
  claims: TokenClaims | undefined,
  o: { armUrl: string; authorityUrl: string; now: number }
): Reply {
  const root = `${o.authorityUrl}/`
  switch (check) {
    case 'missing':
      return (authorization ?? '').trim() === ''
        ? errorReply(
            401,
            'AuthenticationFailed',
            "Authentication failed. The 'Authorization' header is missing.",
            wwwAuthenticate(root, "The authentication failed because of missing 'Authorization' header.")
          )
        : errorReply(
            401,
            'AuthenticationFailed',
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            wwwAuthenticate(root, "The authentication failed because of invalid 'Authorization' header.")
          )
    case 'invalid':
      return errorReply(
        401,
        'InvalidAuthenticationToken',
        'The access token is invalid.',
        wwwAuthenticate(root, 'The access token is invalid.')
      )
    case 'expired': {
      const message = `The access token expiry UTC time '${utcTime(claims?.expiresAt ?? o.now)}' is earlier than current UTC time '${utcTime(o.now)}'.`
      return errorReply(401, 'ExpiredAuthenticationToken', message, wwwAuthenticate(root, 'The access token expiry has passed.'))
    }
    case 'wrongAudience': {
      const message = `The access token has been obtained for wrong audience or resource '${claims?.audience ?? ''}'. It should exactly match with one of the allowed audiences '${o.armUrl}/','${o.armUrl}'.`
      return errorReply(401, 'InvalidAuthenticationToken', message, wwwAuthenticate(root, 'The access token is invalid.'))
    }
  }
}

/** Whether a token's audience is ARM's: its URL, with or without the trailing slash. */
export function isArmAudience(audience: string, armUrl: string): boolean {
  return armUrl !== '' && same(audience.replace(/\/+$/, ''), armUrl)
}

/**
 * Assumption: what ARM answers for a method the emulator does not serve on a resource it reads;
 * the emulator serves reads only.
 */
function methodNotAllowed(method: string): Reply {
  return errorReply(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`)
}

/**
 * Authentication has passed; then the method, the api-version, the path, the caller's access and
 * the resource decide, in that order.
 */
function read(parsed: ParsedPath, env: ArmEnv, req: ArmRequest): Reply {
  if (req.method !== 'GET') return methodNotAllowed(req.method)
  const apiVersion = req.query['api-version']
  if (apiVersion === undefined || apiVersion === '')
    return errorReply(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.'
    )
  if (parsed.kind === 'none') return errorReply(404, 'NotFound', `No resource at '${req.path}'.`)
  if (parsed.kind === 'unknownType')
    return errorReply(
      404,
      'InvalidResourceType',
      `The resource type '${parsed.type}' could not be found in the namespace '${parsed.namespace}' for api version '${apiVersion}'.`
    )
  const { ref } = parsed
  if (!GUID.test(ref.subscriptionId))
    return errorReply(
      400,
      'InvalidSubscriptionId',
      `The provided subscription identifier '${ref.subscriptionId}' is malformed or invalid.`
    )
  const supported = TYPES[ref.kind].apiVersions
  if (!supported.includes(apiVersion))
    return errorReply(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${apiVersion}' is invalid. The supported versions are '${supported.join(',')}'.`
    )
  const { knobs, store } = env
  if (knobs.armAccess === 'otherTenant') return otherTenant(env, req.caller)
  const scope = req.path
    .split('/')
    .filter(p => p !== '')
    .map(decodePathSegment)
    .join('/')
  const seed = store.find(ref)
  if (knobs.armAccess === 'forbidden' || seed?.answer === 403) return forbidden(ref, `/${scope}`, req.caller)
  if (seed?.answer === 404 || (seed === undefined && knobs.armUnknownResources === 'notFound')) return notFound(ref)
  return { status: 200, json: store.render(ref, seed) }
}

/** ARM keywords and resource IDs compare case-insensitively; only GETs of the three types are served. */
export function matchArmRoute(method: string, path: string): MatchedArmRoute {
  const parsed = parsePath(path)
  const name = parsed.kind === 'resource' && method === 'GET' ? TYPES[parsed.ref.kind].route : 'arm.unknown'
  return { name, handle: (env, req) => read(parsed, env, req) }
}
