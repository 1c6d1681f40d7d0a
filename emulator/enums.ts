import type { CloudPcStatus, DeviceImageErrorCode, DeviceImageStatus, Deviation } from './types.js'

export type ApiVersion = 'beta' | 'v1.0'

/** How one response renders evolvable enums. */
export interface EnumView {
  version: ApiVersion
  /** The caller sent `Prefer: include-unknown-enum-members` (or the service ignores its absence). */
  includeEvolvable: boolean
  vmAlreadyAzureAdjoinedSpelling: 'metadata' | 'prose'
}

const SENTINEL = 'unknownFutureValue'

const STABLE_IMAGE_STATUSES: readonly DeviceImageStatus[] = ['pending', 'ready', 'failed', SENTINEL]

/** Beta's only member after the sentinel (docs/graph-facts.md#image-status). */
const EVOLVABLE_IMAGE_STATUSES: readonly DeviceImageStatus[] = ['warning']

const STABLE_ERROR_CODES: readonly DeviceImageErrorCode[] = [
  'internalServerError',
  'sourceImageNotFound',
  'osVersionNotSupported',
  'sourceImageInvalid',
  'sourceImageNotGeneralized',
  SENTINEL
]

/** Members after the sentinel that v1.0 has too; the rest of beta's members are beta-only. */
const V1_EVOLVABLE_ERROR_CODES: readonly DeviceImageErrorCode[] = [
  'vmAlreadyAzureAdjoined',
  'paidSourceImageNotSupport',
  'sourceImageNotSupportCustomizeVMName',
  'sourceImageSizeExceedsLimitation'
]

const BETA_ONLY_ERROR_CODES: readonly DeviceImageErrorCode[] = [
  'sourceImageWithDataDiskNotSupported',
  'sourceImageWithDiskEncryptionSetNotSupported',
  'sourceImageWithAzureDiskEncryptionNotSupported',
  'fSLogixInstalledSourceImageNotSupported',
  'startMenuAppLimitExceeded'
]

const STABLE_CLOUD_PC_STATUSES: readonly CloudPcStatus[] = [
  'notProvisioned',
  'provisioning',
  'provisioned',
  'inGracePeriod',
  'deprovisioning',
  'failed',
  'provisionedWithWarnings',
  'resizing',
  'restoring',
  'pendingProvision',
  SENTINEL
]

/** Beta's members after the sentinel (docs/graph-facts.md#cloud-pc-status): shown only with the Prefer header. */
const EVOLVABLE_CLOUD_PC_STATUSES: readonly CloudPcStatus[] = [
  'movingRegion',
  'resizePendingLicense',
  'updatingSingleSignOn',
  'modifyingSingleSignOn',
  'refreshPolicyConfiguration',
  'preparing',
  'failoverInProgress',
  'failbackInProgress'
]

const KNOWN_ERROR_CODES = new Map(
  [...STABLE_ERROR_CODES, ...V1_EVOLVABLE_ERROR_CODES, ...BETA_ONLY_ERROR_CODES].map(c => [c.toLowerCase(), c])
)

/** Stores error codes in the metadata spelling whatever casing a script used. */
export function canonicalErrorCode(code: string): string {
  return KNOWN_ERROR_CODES.get(code.toLowerCase()) ?? code
}

function isMember<T extends string>(members: readonly T[], value: string): value is T {
  return (members as readonly string[]).includes(value)
}

/** The one place an undeclared value reaches a rendered resource; see `Deviation`. */
function deviation(value: string): Deviation {
  return value as Deviation
}

/**
 * Stable members always show; later ones only to a caller that opted in, and on v1.0 only those
 * v1.0 has. A value no list has is one a test scripted: shown verbatim where a newer member would be.
 */
function present<T extends string>(
  value: string,
  members: { stable: readonly T[]; evolvable: readonly T[]; inV1: readonly T[]; sentinel: T },
  view: EnumView
): T | Deviation {
  if (isMember(members.stable, value)) return value
  if (!view.includeEvolvable) return members.sentinel
  if (view.version === 'v1.0' && !isMember(members.inV1, value)) return members.sentinel
  return isMember(members.evolvable, value) ? value : deviation(value)
}

export function presentImageStatus(status: DeviceImageStatus, view: EnumView): DeviceImageStatus {
  if (isMember(STABLE_IMAGE_STATUSES, status)) return status
  return view.includeEvolvable && view.version === 'beta' ? status : SENTINEL
}

export function presentErrorCode(code: string | null, view: EnumView): DeviceImageErrorCode | Deviation | null {
  if (code === null) return null
  const members = { stable: STABLE_ERROR_CODES, evolvable: [...V1_EVOLVABLE_ERROR_CODES, ...BETA_ONLY_ERROR_CODES] }
  const shown = present(code, { ...members, inV1: V1_EVOLVABLE_ERROR_CODES, sentinel: SENTINEL }, view)
  // The reference prose spells member 6 with a capital J (docs/graph-facts.md#error-code-spelling); only a knob shows it so.
  return shown === 'vmAlreadyAzureAdjoined' && view.vmAlreadyAzureAdjoinedSpelling === 'prose'
    ? deviation('vmAlreadyAzureAdJoined')
    : shown
}

export function presentCloudPcStatus(status: string, view: EnumView): CloudPcStatus | Deviation {
  const members = { stable: STABLE_CLOUD_PC_STATUSES, evolvable: EVOLVABLE_CLOUD_PC_STATUSES }
  return present(status, { ...members, inV1: [], sentinel: SENTINEL }, view)
}

/** Every member the emulator knows, split at the sentinel: `evolvable` ones need the Prefer header. */
export const KNOWN_ENUMS = {
  cloudPcDeviceImageStatus: { stable: STABLE_IMAGE_STATUSES, evolvable: EVOLVABLE_IMAGE_STATUSES },
  cloudPcDeviceImageErrorCode: { stable: STABLE_ERROR_CODES, evolvable: [...V1_EVOLVABLE_ERROR_CODES, ...BETA_ONLY_ERROR_CODES] },
  cloudPcStatus: { stable: STABLE_CLOUD_PC_STATUSES, evolvable: EVOLVABLE_CLOUD_PC_STATUSES }
}
