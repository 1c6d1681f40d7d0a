// Turns the step's inputs into one typed settings object, or into one error per bad input.
// Nothing here touches the network: every input is checked before the first request.

import {
  type CloudEndpoints,
  CLOUDS,
  CLOUDS_WITHOUT_IMAGE_API,
  cloudOfHost,
  type CloudName,
  documentedOrigins,
  isLoopbackHost
} from './clouds.js'
import { parseWaves, type WaveTarget } from './rollout/wave-plan.js'

export type OnExisting = 'reuse' | 'update' | 'replace' | 'fail'

/** `auto`: check what the credential can read; `required` (input `true`): every check must run; `off` (`false`). */
export type PreflightMode = 'auto' | 'required' | 'off'

export type CredentialSettings =
  | { kind: 'accessToken'; accessToken: string }
  | { kind: 'clientSecret'; tenantId: string; clientId: string; clientSecret: string }
  | { kind: 'oidc'; tenantId: string; clientId: string; audience: string }
  | { kind: 'azureCli' }

export interface Settings {
  displayName: string
  version: string
  sourceImageResourceId: string
  credentials: CredentialSettings
  cloud: CloudName
  graphEndpoint: string
  authorityHost: string
  armEndpoint: string
  preflight: PreflightMode
  onExisting: OnExisting
  wait: boolean
  timeoutMs: number
  pollIntervalMs: number
  maxUploadRetries: number
  provisioningPolicyIds: string[]
  reprovision: boolean
  cloudPcIds: string[]
  excludeCloudPcIds: string[]
  /** Cumulative targets without the implied 100 % at the end; [] is one wave. */
  reprovisionWaves: WaveTarget[]
  /** 0: do not wait for the rebuilds. */
  reprovisionTimeoutMs: number
  maxReprovisionFailures: number
  /** Unset: keep every version. */
  keepVersions?: number
  dryRun: boolean
}

export interface InputError {
  input: string
  message: string
}

export interface Notice {
  title: string
  message: string
}

export type ParsedInputs =
  { ok: true; settings: Settings; warnings: string[]; notices: Notice[] } | { ok: false; errors: InputError[] }

/** Defaults, kept equal to action.yml's so a bare `node dist/index.js` behaves like the runner. */
export const DEFAULTS = {
  audience: 'api://AzureADTokenExchange',
  cloud: 'global',
  onExisting: 'reuse',
  wait: 'true',
  timeoutMinutes: '120',
  pollIntervalSeconds: '60',
  maxUploadRetries: '2',
  reprovision: 'false',
  reprovisionWaves: '100%',
  reprovisionTimeoutMinutes: '240',
  maxReprovisionFailures: '0',
  preflight: 'auto',
  dryRun: 'false'
} as const

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i
const VERSION = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/
// Azure naming rules: resource groups 1-90 of letters, digits, _ - . ( ) not ending in '.';
// images 1-80 of letters, digits, _ - . starting with a letter or digit, ending with a letter, digit or _.
const RESOURCE_GROUP =
  '^\\/subscriptions\\/([^/]+)\\/resourceGroups\\/([-\\w.()]{0,89}[-\\w()])\\/providers\\/Microsoft\\.Compute'
const MANAGED_IMAGE = new RegExp(`${RESOURCE_GROUP}\\/images\\/([a-z0-9](?:[-\\w.]{0,78}\\w)?)$`, 'i')
// Galleries: 1-80 of letters, digits, _ and . ; image definitions: 1-80 of letters, digits, _ - . ;
// versions: major.minor.patch integers.
const GALLERY_IMAGE_VERSION = new RegExp(
  `${RESOURCE_GROUP}\\/galleries\\/([\\w.]{1,80})\\/images\\/([-\\w.]{1,80})\\/versions\\/(\\d{1,10}\\.\\d{1,10}\\.\\d{1,10})$`,
  'i'
)
const GALLERY = /\/providers\/Microsoft\.Compute\/galleries\//i
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const BOOLEAN_TRUE = ['true', 'True', 'TRUE']
const BOOLEAN_FALSE = ['false', 'False', 'FALSE']
const MAX_TIMEOUT_MINUTES = 7 * 24 * 60
const MAX_POLL_SECONDS = 3600
const MAX_UPLOAD_RETRIES = 10
/** More failures than Cloud PCs a tenant is likely to hold would tolerate every failure anyway. */
const MAX_REPROVISION_FAILURES = 100_000
const ROLLOUT_ONLY_INPUTS = ['excludeCloudPcIds', 'reprovisionWaves', 'reprovisionTimeoutMinutes', 'maxReprovisionFailures']
/** A tenant holds at most 20 images, so keeping more versions of one name than that means nothing. */
const MAX_KEEP_VERSIONS = 20

/** Reads every input through `get` (which returns '' for an unset input) and validates all of them. */
export function parseInputs(get: (name: string) => string): ParsedInputs {
  const errors: InputError[] = []
  const warnings: string[] = []
  const notices: Notice[] = []
  const fail = (input: string, message: string): void => void errors.push({ input, message })
  const value = (name: string): string => get(name).trim()
  const orDefault = (name: keyof typeof DEFAULTS): string => value(name) || DEFAULTS[name]

  const displayName = value('displayName')
  if (!displayName) fail('displayName', 'displayName is required: the image name shown in Intune, 1-256 characters.')
  else if (displayName.length > 256)
    fail('displayName', `displayName must be at most 256 characters; it has ${displayName.length}.`)
  else if (CONTROL.test(displayName)) fail('displayName', 'displayName must not contain control characters.')

  const versionRaw = value('version')
  // A release tag's name (github.ref_name) is v1.4.0: take it as 1.4.0, and say so.
  const version = /^[vV]\d/.test(versionRaw) && VERSION.test(versionRaw.slice(1)) ? versionRaw.slice(1) : versionRaw
  if (version !== versionRaw)
    notices.push({
      title: 'Version prefix dropped',
      message: `version "${versionRaw}" is read as ${version}: image versions have no "v".`
    })
  if (!version) fail('version', 'version is required, as major.minor.patch (for example 1.5.13).')
  else if (!VERSION.test(version))
    fail(
      'version',
      `version must be major.minor.patch, three non-negative integers without leading zeros (for example 1.5.13); got "${version}".`
    )

  const sourceImageResourceId = value('sourceImageResourceId')
  const managed =
    '/subscriptions/{subscription GUID}/resourceGroups/{resource group}/providers/Microsoft.Compute/images/{image name}'
  const galleryVersion =
    '/subscriptions/{subscription GUID}/resourceGroups/{resource group}/providers/Microsoft.Compute/galleries/{gallery}/images/{image definition}/versions/{version}'
  const expectedSource = `a managed image ID, ${managed}, or an Azure Compute Gallery image version ID, ${galleryVersion}`
  if (!sourceImageResourceId) fail('sourceImageResourceId', `sourceImageResourceId is required: ${expectedSource}.`)
  else {
    const match = MANAGED_IMAGE.exec(sourceImageResourceId) ?? GALLERY_IMAGE_VERSION.exec(sourceImageResourceId)
    if (!match)
      fail(
        'sourceImageResourceId',
        GALLERY.test(sourceImageResourceId)
          ? `sourceImageResourceId names an Azure Compute Gallery resource but not an image version; expected ${galleryVersion}.`
          : `sourceImageResourceId must be ${expectedSource}.`
      )
    else if (!GUID.test(match[1]))
      fail('sourceImageResourceId', `sourceImageResourceId has a subscription ID that is not a GUID ("${match[1]}").`)
    else if (isGallerySource(sourceImageResourceId))
      notices.push({
        title: 'Gallery source (preview)',
        message:
          'sourceImageResourceId is an Azure Compute Gallery image version: Windows 365 takes gallery sources in preview. The image definition must be Windows, x64, generation 2 with the Trusted Launch security type.'
      })
  }

  const cloudRaw = orDefault('cloud').toLowerCase()
  let cloud: CloudName = 'global'
  if (cloudRaw === 'global' || cloudRaw === 'usgov') cloud = cloudRaw
  else if (CLOUDS_WITHOUT_IMAGE_API[cloudRaw])
    fail(
      'cloud',
      `cloud "${value('cloud')}": the Cloud PC image API is not offered in ${CLOUDS_WITHOUT_IMAGE_API[cloudRaw]}. Use global or usgov.`
    )
  else
    fail(
      'cloud',
      `cloud must be global or usgov (GCC High); got "${value('cloud')}". The Cloud PC image API is not offered in other clouds.`
    )

  const endpoint = (input: keyof CloudEndpoints) =>
    parseEndpoint(input, value(input) || CLOUDS[cloud][input], cloudRaw === cloud ? cloud : undefined, fail)
  const graphEndpoint = endpoint('graphEndpoint')
  const authorityHost = endpoint('authorityHost')
  const armEndpoint = endpoint('armEndpoint')

  const preflightRaw = orDefault('preflight').toLowerCase()
  const preflight = ({ auto: 'auto', true: 'required', false: 'off' } as const)[preflightRaw as 'auto' | 'true' | 'false']
  if (!preflight)
    fail(
      'preflight',
      `preflight must be auto (check what the credential can read), true (every check must run and pass) or false (skip); got "${value('preflight')}".`
    )

  const credentials = parseCredentials(value, orDefault('audience'), fail)

  const onExistingRaw = orDefault('onExisting')
  const onExisting = (['reuse', 'update', 'replace', 'fail'] as const).find(o => o === onExistingRaw.toLowerCase())
  if (!onExisting) fail('onExisting', `onExisting must be reuse, update, replace or fail; got "${onExistingRaw}".`)

  const wait = parseBoolean('wait', orDefault('wait'), fail)
  const reprovision = parseBoolean('reprovision', orDefault('reprovision'), fail)
  const dryRun = parseBoolean('dryRun', orDefault('dryRun'), fail)

  const timeoutMinutes = parseNumber('timeoutMinutes', orDefault('timeoutMinutes'), MAX_TIMEOUT_MINUTES, 'minutes', fail)
  const pollIntervalSeconds = parseNumber(
    'pollIntervalSeconds',
    orDefault('pollIntervalSeconds'),
    MAX_POLL_SECONDS,
    'seconds',
    fail
  )
  if (pollIntervalSeconds !== undefined && pollIntervalSeconds < 10 && graphEndpoint && !isLoopback(graphEndpoint))
    warnings.push(
      `pollIntervalSeconds is ${pollIntervalSeconds}: polling Microsoft Graph more often than every 10 seconds invites throttling; uploads take tens of minutes, so 60 is plenty.`
    )

  const retriesRaw = orDefault('maxUploadRetries')
  let maxUploadRetries = 0
  if (!/^\d+$/.test(retriesRaw) || Number(retriesRaw) > MAX_UPLOAD_RETRIES)
    fail('maxUploadRetries', `maxUploadRetries must be a whole number from 0 to ${MAX_UPLOAD_RETRIES}; got "${retriesRaw}".`)
  else maxUploadRetries = Number(retriesRaw)

  const provisioningPolicyIds = parseIdList('provisioningPolicyIds', get('provisioningPolicyIds'), 'provisioning policy', fail)
  const cloudPcIds = parseIdList('cloudPcIds', get('cloudPcIds'), 'Cloud PC', fail)
  if (cloudPcIds.length > 0 && reprovision === false)
    fail(
      'cloudPcIds',
      'cloudPcIds lists Cloud PCs to reprovision, which erases their local data: set reprovision: true to do it, or remove cloudPcIds.'
    )

  const excludeCloudPcIds = parseIdList('excludeCloudPcIds', get('excludeCloudPcIds'), 'Cloud PC', fail)

  const wavesRaw = orDefault('reprovisionWaves')
  const waves = parseWaves(wavesRaw)
  if (!waves.ok) fail('reprovisionWaves', waves.message)
  const reprovisionTimeoutMinutes = parseNumber(
    'reprovisionTimeoutMinutes',
    orDefault('reprovisionTimeoutMinutes'),
    MAX_TIMEOUT_MINUTES,
    'minutes',
    fail,
    true
  )
  if (reprovisionTimeoutMinutes === 0 && waves.ok && waves.targets.length > 0)
    fail(
      'reprovisionTimeoutMinutes',
      `reprovisionTimeoutMinutes is 0 (do not wait), but reprovisionWaves "${wavesRaw}" asks for several waves, and a wave starts only once the previous one is seen finished: set a time-out, or use a single wave (100%).`
    )
  const failuresRaw = orDefault('maxReprovisionFailures')
  let maxReprovisionFailures = 0
  if (!/^\d+$/.test(failuresRaw) || Number(failuresRaw) > MAX_REPROVISION_FAILURES)
    fail(
      'maxReprovisionFailures',
      `maxReprovisionFailures must be a whole number from 0 to ${MAX_REPROVISION_FAILURES}: how many failed reprovisions to tolerate before later waves are withheld; got "${failuresRaw}".`
    )
  else maxReprovisionFailures = Number(failuresRaw)
  if (reprovision === false) {
    const ignored = ROLLOUT_ONLY_INPUTS.filter(
      name => value(name) !== '' && value(name) !== DEFAULTS[name as keyof typeof DEFAULTS]
    )
    if (ignored.length > 0)
      warnings.push(`${ignored.join(', ')} ${ignored.length === 1 ? 'has' : 'have'} no effect without reprovision: true.`)
  }

  if (reprovision && provisioningPolicyIds.length === 0 && cloudPcIds.length === 0)
    fail('reprovision', 'reprovision is true but there is nothing to reprovision: set provisioningPolicyIds, cloudPcIds or both.')
  if (wait === false && (provisioningPolicyIds.length > 0 || reprovision))
    fail(
      provisioningPolicyIds.length > 0 ? 'provisioningPolicyIds' : 'reprovision',
      'Rolling out needs the image to be ready first: remove wait: false, or roll out in a later run.'
    )

  const keepRaw = value('keepVersions')
  let keepVersions: number | undefined
  if (keepRaw) {
    if (!/^\d+$/.test(keepRaw) || Number(keepRaw) < 1 || Number(keepRaw) > MAX_KEEP_VERSIONS)
      fail(
        'keepVersions',
        `keepVersions must be a whole number from 1 to ${MAX_KEEP_VERSIONS}: how many versions of "${displayName || 'the image'}" to keep, the published one included. Leave it unset to keep every version; got "${keepRaw}".`
      )
    else keepVersions = Number(keepRaw)
  }

  if (errors.length > 0) return { ok: false, errors }
  return {
    ok: true,
    warnings,
    notices,
    settings: {
      displayName,
      version,
      sourceImageResourceId,
      credentials: credentials!,
      cloud,
      graphEndpoint: graphEndpoint!,
      authorityHost: authorityHost!,
      armEndpoint: armEndpoint!,
      preflight,
      onExisting: onExisting!,
      wait: wait!,
      timeoutMs: Math.round(timeoutMinutes! * 60_000),
      pollIntervalMs: Math.round(pollIntervalSeconds! * 1000),
      maxUploadRetries,
      provisioningPolicyIds,
      reprovision: reprovision!,
      cloudPcIds,
      excludeCloudPcIds,
      reprovisionWaves: waves.ok ? waves.targets : [],
      reprovisionTimeoutMs: Math.round(reprovisionTimeoutMinutes! * 60_000),
      maxReprovisionFailures,
      keepVersions,
      dryRun: dryRun!
    }
  }
}

/** Whether the source is an Azure Compute Gallery image version rather than a managed image. */
export function isGallerySource(sourceImageResourceId: string): boolean {
  return GALLERY.test(sourceImageResourceId)
}

type Fail = (input: string, message: string) => void

function parseCredentials(value: (name: string) => string, audience: string, fail: Fail): CredentialSettings | undefined {
  const accessToken = value('accessToken')
  const clientSecret = value('clientSecret')
  const tenantId = value('tenantId')
  const clientId = value('clientId')
  let valid = true
  if (tenantId && !GUID.test(tenantId) && !DOMAIN.test(tenantId)) {
    fail('tenantId', 'tenantId must be the Entra tenant ID (a GUID) or a verified domain such as contoso.onmicrosoft.com.')
    valid = false
  }
  if (clientId && !GUID.test(clientId)) {
    fail('clientId', 'clientId must be the application (client) ID, a GUID.')
    valid = false
  }
  if (accessToken) return valid ? { kind: 'accessToken', accessToken } : undefined
  if (tenantId && !clientId) {
    fail('clientId', 'clientId is required with tenantId: the application (client) ID of the app registration.')
    return undefined
  }
  if (clientId && !tenantId) {
    fail('tenantId', 'tenantId is required with clientId: the Entra tenant ID (GUID) or verified domain.')
    return undefined
  }
  if (clientSecret && !tenantId) {
    fail('clientSecret', 'clientSecret needs tenantId and clientId of the app registration it belongs to.')
    return undefined
  }
  if (!valid) return undefined
  if (clientSecret) return { kind: 'clientSecret', tenantId, clientId, clientSecret }
  // An empty audience input takes the default, so audience is never empty here.
  if (tenantId) return { kind: 'oidc', tenantId, clientId, audience }
  return { kind: 'azureCli' }
}

function parseEndpoint(input: keyof CloudEndpoints, raw: string, cloud: CloudName | undefined, fail: Fail): string | undefined {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    fail(input, `${input} must be an absolute URL such as https://graph.microsoft.com; got "${raw}".`)
    return undefined
  }
  const loopback = isLoopbackHost(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    fail(
      input,
      `${input} must use https:// (http:// is accepted only for loopback hosts: 127.0.0.0/8, localhost, [::1]); got "${raw}".`
    )
    return undefined
  }
  // The origin is the parsed, normalised form (lower case, punycode, default port dropped), so an exact
  // comparison leaves no look-alike, trailing dot or other port through.
  const documented = documentedOrigins(input)
  if (!loopback && !documented.some(d => d.origin === url.origin)) {
    const hosts = documented.map(d => `${d.origin} (${d.cloud})`).join(' or ')
    fail(
      input,
      `${input} must be ${hosts}, or a loopback URL (http:// or https:// to 127.0.0.0/8, localhost or [::1], any port); got "${raw}" (host ${url.host}).`
    )
    return undefined
  }
  // A URL with an http(s) scheme always has a path, '/' at least.
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    fail(
      input,
      `${input} must be the root URL only, without a path, query or credentials (for example ${url.origin}); got "${raw}".`
    )
    return undefined
  }
  // Tokens do not work across clouds: a public host of the other cloud is a mix-up, not a choice.
  const hostCloud = cloudOfHost(url.hostname)
  if (cloud && hostCloud && hostCloud !== cloud) {
    fail(
      input,
      `${input} ${url.origin} belongs to the ${hostCloud} cloud, but cloud is ${cloud}: use ${CLOUDS[cloud][input]}, or set cloud to ${hostCloud}.`
    )
    return undefined
  }
  return url.origin
}

function parseBoolean(input: string, raw: string, fail: Fail): boolean | undefined {
  if (BOOLEAN_TRUE.includes(raw)) return true
  if (BOOLEAN_FALSE.includes(raw)) return false
  fail(input, `${input} must be true or false; got "${raw}".`)
  return undefined
}

function parseNumber(input: string, raw: string, max: number, unit: string, fail: Fail, zero = false): number | undefined {
  const n = /^\d+(\.\d+)?$|^\.\d+$/.test(raw) ? Number(raw) : NaN
  if (!(n > 0 || (zero && n === 0)) || n > max) {
    fail(
      input,
      `${input} must be a number of ${unit} ${zero ? 'from 0' : 'greater than 0'} and at most ${max} (decimals allowed); got "${raw}".`
    )
    return undefined
  }
  return n
}

function parseIdList(input: string, raw: string, what: string, fail: Fail): string[] {
  const ids = raw
    .split(/[,\n]/)
    .map(id => id.trim())
    .filter(id => id.length > 0)
  const bad = ids.filter(id => !GUID.test(id))
  if (bad.length > 0)
    fail(input, `${input} must list ${what} IDs (GUIDs) separated by commas or new lines; not a GUID: ${bad.join(', ')}.`)
  const seen = new Set<string>()
  return ids.filter(id => !seen.has(id.toLowerCase()) && seen.add(id.toLowerCase()))
}

function isLoopback(origin: string): boolean {
  return isLoopbackHost(new URL(origin).hostname)
}
