import type * as Graph from '@microsoft/microsoft-graph-types-beta'

// Rendered resources are typed with Microsoft's published Graph beta types, so the compiler refuses
// a property or an enum member Microsoft does not declare. They are widened only by what Microsoft's
// metadata declares after that package (conformance/later-members.json).

export type DeviceImageStatus = Graph.CloudPcDeviceImageStatus
export type DeviceImageErrorCode =
  Graph.CloudPcDeviceImageErrorCode | 'fSLogixInstalledSourceImageNotSupported' | 'startMenuAppLimitExceeded'
export type CloudPcStatus = Graph.CloudPcStatus | 'refreshPolicyConfiguration' | 'failoverInProgress' | 'failbackInProgress'

/** What an upload settles on, or `pending` while it runs. */
export type ImageStatus = Exclude<DeviceImageStatus, 'unknownFutureValue'>

declare const deviation: unique symbol
/**
 * A value Microsoft does not declare, rendered only because a test asked for it: an error code or
 * status a script names that no metadata has (shown verbatim, as a member newer than the action
 * would be), or the prose spelling knob vmAlreadyAzureAdjoinedSpelling.
 */
export type Deviation = string & { readonly [deviation]: true }

/** The named properties of a Graph type, each present (null where Graph allows it). */
type Rendered<T, K extends keyof T> = Required<Pick<T, K>>

export interface EmulatorOptions {
  host?: string
  port?: number
  /** Clock in ms; every timing decision reads it. */
  now?: () => number
  tokenLifetimeSeconds?: number
  /** When absent, any clientId with a non-empty client_secret or client_assertion is accepted. */
  clients?: ClientRegistration[]
  images?: SeedImage[]
  policies?: SeedPolicy[]
  cloudPcs?: SeedCloudPc[]
  defaultUpload?: UploadAttempt[]
  uploadScripts?: UploadScript[]
  knobs?: Partial<Knobs>
  faults?: FaultRule[]
  /** Seeds every random choice, ids included. */
  seed?: number
  githubOidc?: GithubOidcOptions
  /** Port of the Azure Resource Manager server; default 0, any free port. */
  armPort?: number
  /** Resources Azure Resource Manager serves otherwise than the passing default (knob armUnknownResources). */
  armResources?: ArmResourceSeed[]
}

export interface ClientRegistration {
  clientId: string
  tenantId?: string
  clientSecret?: string
  /** A fixed client assertion accepted as is. */
  assertion?: string
  /** Federated credentials: a GitHub ID token from the emulator's issuer whose claims match one of these is accepted. */
  federated?: FederatedCredential[]
}

export interface FederatedCredential {
  subject: string
  /** Default: GitHub's issuer, https://token.actions.githubusercontent.com */
  issuer?: string
  /** Default: api://AzureADTokenExchange */
  audience?: string
}

/** The GitHub Actions ID token service the emulator plays for ACTIONS_ID_TOKEN_REQUEST_URL. */
export interface GithubOidcOptions {
  /** The `sub` claim of issued ID tokens; default 'repo:contoso/cloudpc-images:ref:refs/heads/main'. */
  subject?: string
  /** Lifetime of issued ID tokens; default 300 seconds. */
  lifetimeSeconds?: number
  /** The bearer the runner's ACTIONS_ID_TOKEN_REQUEST_TOKEN must carry; default a random value. */
  requestToken?: string
}

export interface GithubOidcIssuer {
  /** Value for ACTIONS_ID_TOKEN_REQUEST_URL (it already has a query, as GitHub's does). */
  requestUrl: string
  /** Value for ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string
  /** Every ID token issued so far, in order. */
  issued: string[]
}

export interface UploadAttempt {
  pendingMs: number
  outcome: 'ready' | 'warning' | 'failed'
  errorCode?: string
}

/**
 * The first matching script drives a created image: attempt i applies to the i-th upload
 * (0 = the create, 1 = after the first retryUpload/reupload, …); the last attempt repeats.
 */
export interface UploadScript {
  match: { displayName?: string; version?: string; sourceImageResourceId?: string }
  attempts: UploadAttempt[]
}

export interface SeedImage {
  id?: string
  displayName: string
  version: string
  sourceImageResourceId: string
  /** Settled state (default 'ready'; 'pending' stays pending until flipped or retried) unless `attempts` is given. */
  status?: ImageStatus
  errorCode?: string | null
  /** When given, the image behaves like one created now. */
  attempts?: UploadAttempt[]
  lastModifiedDateTime?: string
}

export interface SeedPolicy {
  id?: string
  displayName: string
  imageId?: string
  imageDisplayName?: string
  imageType?: 'gallery' | 'custom'
}

export interface SeedCloudPc {
  id?: string
  displayName: string
  userPrincipalName?: string
  provisioningPolicyId: string
  status?: string
  /** Default: when the emulator started. */
  provisionedDateTime?: string
  /** How every reprovision of this Cloud PC runs. */
  reprovision?: ReprovisionScript
}

/**
 * How a Cloud PC's reprovisions run: each lasts `durationMs` (default knob reprovisionMs), then
 * ends `outcome` (default 'provisioned').
 */
export interface ReprovisionScript {
  durationMs?: number
  outcome?: 'provisioned' | 'failed'
}

/**
 * A source image as Azure Resource Manager serves it: a managed image, a gallery image definition or
 * a gallery image version. Unseeded IDs follow knob armUnknownResources.
 */
export interface ArmResourceSeed {
  /** The resource ID, matched case-insensitively, as ARM matches it. */
  id: string
  /** Deep-merged onto the passing default's `properties`; an array replaces the default's. */
  properties?: Record<string, unknown>
  /** Default 'westeurope'. */
  location?: string
  /** Default {}. */
  tags?: Record<string, string>
  /** Answer this instead of the resource: 403 AuthorizationFailed or 404 ResourceNotFound. */
  answer?: 403 | 404
}

/** The resource types the emulator's Azure Resource Manager serves. */
export type ArmResourceKind = 'image' | 'galleryImage' | 'galleryImageVersion'

/** A resource ID taken apart. */
export interface ArmResourceRef {
  kind: ArmResourceKind
  subscriptionId: string
  resourceGroup: string
  /** [image], [gallery, definition] or [gallery, definition, version]. */
  names: string[]
  /** The ID with ARM's own spelling of every keyword and the names as given. */
  id: string
}

export interface ErrorChoice {
  status: number
  code: string
}

/** The emulator's switches; what each plays, its values, default and basis: `KNOBS` in emulator/knobs.ts. */
export interface Knobs {
  createValidationError: ErrorChoice
  duplicateOnCreate: 'reject' | 'allow'
  duplicateError: ErrorChoice
  imageCap: number
  imageCapError: ErrorChoice
  deleteInUseError: ErrorChoice
  retryOnNonFailed: 'accept' | 'reject'
  retryUpload: 'working' | 'unknownSegment' | 405
  reupload: 'working' | 'unknownSegment' | 'retired400' | 'noop'
  staleReadsAfterRetryMs: number
  imagePatch: 405 | 400 | 'accept200' | 'accept204'
  imagePatchStartsUpload: boolean
  mapEvolvableWithoutPrefer: boolean
  echoPreferenceApplied: boolean
  filter: 'support' | 'reject' | 'ignore'
  imagePageSize: number
  cloudPcPageSize: number
  createResponseOsFields: 'null' | 'filled'
  galleryImageIds: 'reject' | 'accept'
  policyPatchUnknownImage: 'accept' | 'reject'
  reprovisionMs: number
  reprovisionIneligible: 'reject' | 'ignore'
  reprovisionIneligibleError: ErrorChoice
  reprovisionVisibleAfterMs: number
  reprovisionRemoteActionResult: 'shown' | 'absent'
  errorCodeCasing: 'camel' | 'pascal'
  vmAlreadyAzureAdjoinedSpelling: 'metadata' | 'prose'
  writeBudget: { writes: number; perSeconds: number } | null
  armUnknownResources: 'passing' | 'notFound'
  armAccess: 'granted' | 'forbidden' | 'otherTenant'
}

export type Fault =
  | { kind: 'status'; status: number; code?: string; retryAfter?: string }
  | { kind: 'commitThenStatus'; status: number; code?: string }
  | { kind: 'drop' }
  | { kind: 'commitThenDrop' }
  | { kind: 'delay'; ms: number }
  | { kind: 'malformed'; status?: number; body?: string }

export interface FaultRule {
  method?: string
  /**
   * Matched against the path after the version prefix, without query (the whole path for the
   * token route and for Azure Resource Manager); a string is an exact match.
   */
  path?: string | RegExp
  skip?: number
  times?: number
  probability?: number
  fault: Fault
}

export interface LoggedRequest {
  seq: number
  time: number
  method: string
  /** Which server answered: Graph with the authority, or Azure Resource Manager. */
  server: 'graph' | 'arm'
  /** Full path including /beta or /v1.0, without query; for Azure Resource Manager the resource path. */
  path: string
  route: string
  query: Record<string, string>
  headers: Record<string, string>
  body: string
  /** 0 when no answer was sent. */
  status: number
  fault?: string
}

export type ImageView = Rendered<
  Graph.CloudPcDeviceImage,
  | 'id'
  | 'displayName'
  | 'version'
  | 'sourceImageResourceId'
  | 'operatingSystem'
  | 'osBuildNumber'
  | 'osVersionNumber'
  | 'sizeInGB'
  | 'lastModifiedDateTime'
  | 'osStatus'
  | 'expirationDate'
> & {
  status: DeviceImageStatus
  errorCode: DeviceImageErrorCode | Deviation | null
}

export type PolicyView = Rendered<
  Graph.CloudPcProvisioningPolicy,
  'id' | 'displayName' | 'imageId' | 'imageDisplayName' | 'imageType'
>

export type StatusDetailView = Rendered<Graph.CloudPcStatusDetail, 'code' | 'message' | 'additionalInformation'>

export type RemoteActionResultView = Rendered<
  Graph.CloudPcRemoteActionResult,
  'actionName' | 'actionState' | 'startDateTime' | 'lastUpdatedDateTime'
> & { statusDetail: StatusDetailView | null }

export type CloudPcView = Rendered<
  Graph.CloudPC,
  | 'id'
  | 'displayName'
  | 'userPrincipalName'
  | 'provisioningPolicyId'
  | 'provisioningPolicyName'
  | 'imageDisplayName'
  | 'lastModifiedDateTime'
> &
  /** Beta only (docs/graph-facts.md#cloud-pc-fields). */
  Partial<Rendered<Graph.CloudPC, 'provisionedDateTime'>> & {
    status?: CloudPcStatus | Deviation
    lastRemoteActionResult?: RemoteActionResultView | null
  }

export interface IssueTokenOptions {
  lifetimeSeconds?: number
  tenantId?: string
  clientId?: string
  /** The token's `aud`; default the Graph URL. `armUrl` mints a token Azure Resource Manager accepts. */
  audience?: string
}

/** A nested reference to another resource, as ARM renders it. */
export interface ArmSubResource {
  id: string
}

/** The envelope every ARM resource read shares. */
export interface ArmResource<Type extends string, Properties> {
  id: string
  name: string
  type: Type
  location: string
  tags: Record<string, string>
  properties: Properties
}

export type ArmOsType = 'Windows' | 'Linux'
export type ArmOsState = 'Generalized' | 'Specialized'
export type ArmHyperVGeneration = 'V1' | 'V2'

export interface ManagedImageDataDisk {
  lun: number
  diskSizeGB?: number
  caching?: string
  storageAccountType?: string
  diskEncryptionSet?: ArmSubResource
}

/** Microsoft.Compute/images (Images - Get). */
export interface ManagedImageProperties {
  storageProfile: {
    osDisk: {
      osType: ArmOsType
      osState: ArmOsState
      diskSizeGB: number
      caching: string
      storageAccountType: string
      /** Present when the disk is encrypted with a disk encryption set. */
      diskEncryptionSet?: ArmSubResource
    }
    dataDisks: ManagedImageDataDisk[]
    zoneResilient: boolean
  }
  provisioningState: 'Succeeded'
  hyperVGeneration: ArmHyperVGeneration
}

/** Microsoft.Compute/galleries/images (Gallery Images - Get). */
export interface GalleryImageProperties {
  identifier: { publisher: string; offer: string; sku: string }
  osType: ArmOsType
  osState: ArmOsState
  hyperVGeneration: ArmHyperVGeneration
  architecture: 'x64' | 'Arm64'
  features: { name: string; value: string }[]
  provisioningState: 'Succeeded'
}

export interface GalleryTargetRegion {
  name: string
  regionalReplicaCount: number
  storageAccountType: string
  /** Disk encryption sets per disk; absent when the platform's keys encrypt the replicas. */
  encryption?: {
    osDiskImage?: { diskEncryptionSetId?: string }
    dataDiskImages?: { lun: number; diskEncryptionSetId?: string }[]
  }
}

/** Microsoft.Compute/galleries/images/versions (Gallery Image Versions - Get). */
export interface GalleryImageVersionProperties {
  publishingProfile: {
    targetRegions: GalleryTargetRegion[]
    replicaCount: number
    excludeFromLatest: boolean
    publishedDate: string
    storageAccountType: string
  }
  storageProfile: {
    osDiskImage: { sizeInGB: number; hostCaching: string }
    dataDiskImages: { lun: number; sizeInGB: number; hostCaching: string }[]
  }
  provisioningState: 'Succeeded'
}

export type ManagedImageView = ArmResource<'Microsoft.Compute/images', ManagedImageProperties>
export type GalleryImageView = ArmResource<'Microsoft.Compute/galleries/images', GalleryImageProperties>
export type GalleryImageVersionView = ArmResource<'Microsoft.Compute/galleries/images/versions', GalleryImageVersionProperties>
export type ArmResourceView = ManagedImageView | GalleryImageView | GalleryImageVersionView

export interface Emulator {
  /** 'http://127.0.0.1:PORT', no trailing slash; serves the authority and Graph. */
  url: string
  /**
   * 'http://127.0.0.1:PORT', no trailing slash; serves Azure Resource Manager's source image reads to
   * tokens for the scope `${armUrl}/.default`.
   */
  armUrl: string
  /** Every request to either server, in arrival order. */
  requests: LoggedRequest[]
  /** Graph writes only. */
  writes(): LoggedRequest[]
  /** Current images as beta renders them to a caller sending the Prefer header. */
  images(): ImageView[]
  policies(): PolicyView[]
  /** Current Cloud PCs as beta reads render them (knob reprovisionVisibleAfterMs applies). */
  cloudPcs(): CloudPcView[]
  /** Reprovisions that started; refused or ignored requests do not count. */
  reprovisionCount(cloudPcId: string): number
  /** Replaces how the Cloud PC's reprovisions run from the next one on (omitted fields take the defaults). */
  scriptReprovision(cloudPcId: string, script: ReprovisionScript): void
  /** Changes a Cloud PC's status outside any reprovision, as when its user's licence is removed. */
  setCloudPcStatus(cloudPcId: string, status: string): void
  addFault(rule: FaultRule): void
  clearFaults(): void
  setKnobs(k: Partial<Knobs>): void
  addUploadScript(s: UploadScript): void
  issueToken(opts?: IssueTokenOptions): string
  githubOidc: GithubOidcIssuer
  revokeTokens(): void
  flip(imageId: string, status: ImageStatus, errorCode?: string): void
  /**
   * Runs `act` once, just before the first matching request is handled: how a test plays another
   * administrator changing the tenant while a run is under way.
   */
  before(match: { method?: string; path?: string | RegExp }, act: (e: Emulator) => void): void
  /** Points a policy at an image, as an administrator would in the Intune admin center. */
  pointPolicy(policyId: string, imageId: string): void
  /** Adds an Azure Resource Manager resource, or replaces the seed with the same ID. */
  setArmResource(seed: ArmResourceSeed): void
  close(): Promise<void>
}
