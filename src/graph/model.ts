// Shapes of the Graph resources the action reads and writes (beta, deviceManagement/virtualEndpoint).

// Microsoft's published beta types, a dev dependency: a type-only import, erased from dist/.
import type * as Graph from '@microsoft/microsoft-graph-types-beta'

const KNOWN_IMAGE_STATUSES = ['pending', 'ready', 'failed', 'warning', 'unknownFutureValue'] as const
export type KnownImageStatus = (typeof KNOWN_IMAGE_STATUSES)[number]
/** A status the action knows, or `unrecognised` for a member added after this version was built. */
export type ImageStatus = KnownImageStatus | 'unrecognised'

export interface DeviceImage {
  id: string
  displayName: string
  version: string
  sourceImageResourceId: string
  status: string | null
  errorCode: string | null
  operatingSystem?: string | null
  osBuildNumber?: string | null
  osVersionNumber?: string | null
  osStatus?: string | null
  sizeInGB?: number | null
  expirationDate?: string | null
  lastModifiedDateTime?: string | null
  [property: string]: unknown
}

/**
 * The request bodies the action sends, cut from Microsoft's declarations so the compiler refuses a
 * property or an enum value the service does not declare. Read shapes stay loose (`DeviceImage`):
 * the service may add properties and enum members at any time.
 */
export type ImageCreateBody = Required<Pick<Graph.CloudPcDeviceImage, 'displayName' | 'version' | 'sourceImageResourceId'>>
export type ImageSourcePatch = Required<Pick<Graph.CloudPcDeviceImage, 'sourceImageResourceId'>>
export type PolicyImagePatch = Required<Pick<Graph.CloudPcProvisioningPolicy, 'imageId' | 'imageDisplayName' | 'imageType'>>

export interface GraphCollection<T> {
  value: T[]
  '@odata.nextLink'?: string
}

/** Service enums are compared case-insensitively and trimmed: the docs and the wire disagree on casing. */
export function parseImageStatus(raw: unknown): ImageStatus {
  if (typeof raw !== 'string') return 'unrecognised'
  const lower = raw.trim().toLowerCase()
  return KNOWN_IMAGE_STATUSES.find(s => s.toLowerCase() === lower) ?? 'unrecognised'
}

/**
 * The image without OData annotations, as the `image` output carries it. Its properties are copied,
 * not read: a getter that throws is left for the output's writer to catch.
 */
export function withoutODataKeys(image: DeviceImage): Record<string, unknown> {
  const properties = Object.getOwnPropertyDescriptors(image)
  for (const key of Object.keys(properties)) if (key.startsWith('@odata.')) delete properties[key]
  return Object.defineProperties({}, properties)
}

/** Beta `cloudPcRemoteActionResult` (docs/graph-facts.md#remote-action-result): the last remote action on a Cloud PC. */
export interface RemoteActionResult {
  actionName?: string | null
  actionState?: string | null
  startDateTime?: string | null
  lastUpdatedDateTime?: string | null
  statusDetail?: { code?: string | null; message?: string | null } | null
}

/** The beta `cloudPC` properties the roll-out reads; `status` and the progress fields are beta only. */
export interface CloudPc {
  id: string
  displayName?: string | null
  userPrincipalName?: string | null
  provisioningPolicyId?: string | null
  status?: string | null
  provisionedDateTime?: string | null
  lastRemoteActionResult?: RemoteActionResult | null
}

/** The Cloud PC statuses the roll-out tells apart (docs/graph-facts.md#cloud-pc-status); every other member is `other`. */
const KNOWN_CLOUD_PC_STATUSES = ['provisioned', 'provisionedWithWarnings', 'failed', 'provisioning'] as const
export type CloudPcStatus = (typeof KNOWN_CLOUD_PC_STATUSES)[number] | 'other'

export function parseCloudPcStatus(raw: unknown): CloudPcStatus {
  if (typeof raw !== 'string') return 'other'
  const lower = raw.trim().toLowerCase()
  return KNOWN_CLOUD_PC_STATUSES.find(s => s.toLowerCase() === lower) ?? 'other'
}

/** Where Graph keeps the provisioning policies. */
export const POLICIES_PATH = '/deviceManagement/virtualEndpoint/provisioningPolicies'
/** Windows 365 keeps at most this many custom images per tenant. */
export const IMAGE_LIMIT = 20

export interface ImageKey {
  displayName: string
  version: string
}

/** Name compared case-insensitively (as the service does), version exactly. */
export function isSameImage(image: Pick<DeviceImage, 'displayName' | 'version'>, key: ImageKey): boolean {
  return (
    typeof image.displayName === 'string' &&
    image.displayName.trim().toLowerCase() === key.displayName.toLowerCase() &&
    image.version === key.version
  )
}

/** Azure resource IDs are case-insensitive. */
export function isSameSource(a: string | null | undefined, b: string): boolean {
  return typeof a === 'string' && a.trim().toLowerCase() === b.toLowerCase()
}

export interface ProvisioningPolicy {
  id: string
  displayName?: string
  imageId?: string | null
  imageDisplayName?: string | null
  imageType?: string | null
}

export function usesImage(policy: ProvisioningPolicy, imageId: string): boolean {
  return sameId(policy.imageId, imageId)
}

/**
 * The canonical form of a Cloud PC, policy or image ID, the only form IDs are compared in: Graph
 * IDs are GUIDs, which may come trimmed or not, with or without braces, in either case.
 */
export function canonicalId(id: string): string {
  const trimmed = id.trim()
  const bare = /^\{.*\}$/.test(trimmed) ? trimmed.slice(1, -1).trim() : trimmed
  return bare.toLowerCase()
}

export function sameId(a: unknown, b: string): boolean {
  return typeof a === 'string' && canonicalId(a) === canonicalId(b)
}
