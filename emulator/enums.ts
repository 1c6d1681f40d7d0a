export type ApiVersion = 'beta' | 'v1.0'

/** How one response renders evolvable enums. */
export interface EnumView {
  version: ApiVersion
  /** The caller sent `Prefer: include-unknown-enum-members` (or the service ignores its absence). */
  includeEvolvable: boolean
  vmAlreadyAzureAdjoinedSpelling: 'metadata' | 'prose'
}

const SENTINEL = 'unknownFutureValue'

const STABLE_IMAGE_STATUSES = ['pending', 'ready', 'failed', SENTINEL]

const STABLE_ERROR_CODES = [
  'internalServerError',
  'sourceImageNotFound',
  'osVersionNotSupported',
  'sourceImageInvalid',
  'sourceImageNotGeneralized',
  SENTINEL
]

/** Members after the sentinel that v1.0 has too; the rest of beta's members are beta-only. */
const V1_EVOLVABLE_ERROR_CODES = [
  'vmAlreadyAzureAdjoined',
  'paidSourceImageNotSupport',
  'sourceImageNotSupportCustomizeVMName',
  'sourceImageSizeExceedsLimitation'
]

const BETA_ONLY_ERROR_CODES = [
  'sourceImageWithDataDiskNotSupported',
  'sourceImageWithDiskEncryptionSetNotSupported',
  'sourceImageWithAzureDiskEncryptionNotSupported',
  'fSLogixInstalledSourceImageNotSupported',
  'startMenuAppLimitExceeded'
]

const STABLE_CLOUD_PC_STATUSES = [
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

/** Beta's members after the sentinel (graph-api.md §3.5, §15 row 7): shown only with the Prefer header. */
const EVOLVABLE_CLOUD_PC_STATUSES = [
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

function present(value: string, stable: string[], inV1: string[], view: EnumView): string {
  if (stable.includes(value)) return value
  if (!view.includeEvolvable) return SENTINEL
  if (view.version === 'v1.0' && !inV1.includes(value)) return SENTINEL
  return value
}

export function presentImageStatus(status: string, view: EnumView): string {
  return present(status, STABLE_IMAGE_STATUSES, [], view)
}

export function presentErrorCode(code: string | null, view: EnumView): string | null {
  if (code === null) return null
  const shown = present(code, STABLE_ERROR_CODES, V1_EVOLVABLE_ERROR_CODES, view)
  return shown === 'vmAlreadyAzureAdjoined' && view.vmAlreadyAzureAdjoinedSpelling === 'prose' ? 'vmAlreadyAzureAdJoined' : shown
}

export function presentCloudPcStatus(status: string, view: EnumView): string {
  return present(status, STABLE_CLOUD_PC_STATUSES, [], view)
}

/** Every member the emulator knows, split at the sentinel: `evolvable` ones need the Prefer header. */
export const KNOWN_ENUMS = {
  cloudPcDeviceImageStatus: { stable: STABLE_IMAGE_STATUSES, evolvable: ['warning'] },
  cloudPcDeviceImageErrorCode: { stable: STABLE_ERROR_CODES, evolvable: [...V1_EVOLVABLE_ERROR_CODES, ...BETA_ONLY_ERROR_CODES] },
  cloudPcStatus: { stable: STABLE_CLOUD_PC_STATUSES, evolvable: EVOLVABLE_CLOUD_PC_STATUSES }
}
