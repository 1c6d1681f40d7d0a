import { canonicalErrorCode, presentCloudPcStatus, presentErrorCode, presentImageStatus, type EnumView } from './enums.js'
import type { Random } from './random.js'
import type {
  ArmResourceRef,
  ArmResourceSeed,
  ArmResourceView,
  CloudPcView,
  ImageStatus,
  ImageView,
  PolicyView,
  ReprovisionScript,
  SeedCloudPc,
  SeedImage,
  SeedPolicy,
  StatusDetailView,
  UploadAttempt,
  UploadScript
} from './types.js'

const GALLERY_IMAGE_ID = 'MicrosoftWindowsDesktop_windows-ent-cpc_win11-24H2-ent-cpc-m365'
const GALLERY_IMAGE_NAME = 'Windows 11 Enterprise + Microsoft 365 Apps 24H2'

/** What a validated image reports (docs/graph-facts.md#image-properties). */
const OS_FIELDS = {
  operatingSystem: 'Windows 11 Enterprise',
  osBuildNumber: '24H2',
  osVersionNumber: '10.0.26100.2033',
  sizeInGB: 64,
  osStatus: 'supported'
} as const

/** The current upload: pending for `pendingMs` from `startedAt`, then `outcome`. */
interface Phase {
  startedAt: number
  /** Infinity keeps the image pending until something else changes it. */
  pendingMs: number
  outcome: ImageStatus
  errorCode: string | null
}

export interface ImageRecord {
  id: string
  displayName: string
  version: string
  sourceImageResourceId: string
  /** A seed's own attempts, which take precedence over upload scripts. */
  ownAttempts?: UploadAttempt[]
  /** Index of the current upload: 0 = the create. */
  upload: number
  phase: Phase
  modifiedAt: number
  /** Until `until`, reads render the image as `before` (knob staleReadsAfterRetryMs). */
  stale?: { until: number; before: StaleSnapshot }
}

type StaleSnapshot = Pick<ImageRecord, 'displayName' | 'version' | 'sourceImageResourceId' | 'phase' | 'modifiedAt'>

export interface PolicyRecord {
  id: string
  displayName: string
  imageId: string
  imageDisplayName: string
  imageType: PolicyView['imageType']
}

export interface CloudPcRecord {
  id: string
  displayName: string
  userPrincipalName: string | null
  provisioningPolicyId: string
  imageDisplayName: string | null
  /** The status before `lastReprovision`, which decides it from its start on. */
  status: string
  /** When the Cloud PC was last provisioned, not counting `lastReprovision`. */
  provisionedAt: number
  /** The latest reprovision: `provisioning` from its request until `endsAt`, then `outcome`. */
  lastReprovision: Reprovision | null
  modifiedAt: number
  reprovisions: number
  /** How the next reprovision runs (seed `reprovision`, or Emulator.scriptReprovision). */
  script: ReprovisionScript
  /** Until `until`, reads render the Cloud PC as `before` (knob reprovisionVisibleAfterMs). */
  stale?: { until: number; before: CloudPcSnapshot }
  /** When setCloudPcStatus last changed `status`. */
  statusSetAt?: number
}

export interface Reprovision {
  startedAt: number
  endsAt: number
  outcome: 'provisioned' | 'failed'
}

type CloudPcSnapshot = Pick<CloudPcRecord, 'imageDisplayName' | 'status' | 'provisionedAt' | 'lastReprovision' | 'modifiedAt'>

/** The statuses a Cloud PC may be reprovisioned from ("Failed or Provisioned", docs/graph-facts.md#reprovision-eligibility). */
const REPROVISIONABLE = new Set(['provisioned', 'provisionedWithWarnings', 'failed'])

/**
 * What a failed reprovision reports in lastRemoteActionResult.statusDetail. The code is the example
 * Microsoft's cloudPcStatusDetail documentation gives; what the service sends is undocumented.
 */
function reprovisionFailure(): StatusDetailView {
  return {
    code: 'internalServerError',
    message: 'The reprovision of the Cloud PC failed. Reprovision it again or contact support.',
    additionalInformation: []
  }
}

export interface StoreSeed {
  images?: SeedImage[]
  policies?: SeedPolicy[]
  cloudPcs?: SeedCloudPc[]
  uploadScripts?: UploadScript[]
  defaultUpload: UploadAttempt[]
}

function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

function requireAttempts(attempts: UploadAttempt[], what: string): UploadAttempt[] {
  if (attempts.length === 0) throw new Error(`${what} needs at least one upload attempt`)
  return attempts
}

type UploadSubject = Pick<ImageRecord, 'displayName' | 'version' | 'sourceImageResourceId' | 'ownAttempts'>

function scriptMatches(s: UploadScript, img: UploadSubject): boolean {
  const m = s.match
  return (
    (m.displayName === undefined || m.displayName.toLowerCase() === img.displayName.toLowerCase()) &&
    (m.version === undefined || m.version === img.version) &&
    (m.sourceImageResourceId === undefined || m.sourceImageResourceId.toLowerCase() === img.sourceImageResourceId.toLowerCase())
  )
}

function phaseOf(attempt: UploadAttempt, startedAt: number): Phase {
  return {
    startedAt,
    pendingMs: attempt.pendingMs,
    outcome: attempt.outcome,
    errorCode: attempt.errorCode === undefined ? null : canonicalErrorCode(attempt.errorCode)
  }
}

/** Two years on, as YYYY-MM-DD: the emulator's own span, as none is documented (docs/graph-facts.md#expiration-date). */
function expiryDate(ms: number): string {
  const d = new Date(ms)
  d.setUTCFullYear(d.getUTCFullYear() + 2)
  return d.toISOString().slice(0, 10)
}

/** Tenant contents; every status is computed from the clock when read. */
export class Store {
  readonly images: ImageRecord[] = []
  readonly policies: PolicyRecord[] = []
  readonly cloudPcs: CloudPcRecord[] = []
  private readonly scripts: UploadScript[] = []
  private readonly defaultUpload: UploadAttempt[]

  constructor(
    private readonly now: () => number,
    private readonly ids: Random,
    seed: StoreSeed
  ) {
    this.defaultUpload = requireAttempts(seed.defaultUpload, 'defaultUpload')
    for (const s of seed.uploadScripts ?? []) this.addScript(s)
    for (const s of seed.images ?? []) this.seedImage(s)
    for (const s of seed.policies ?? []) this.seedPolicy(s)
    for (const s of seed.cloudPcs ?? []) this.seedCloudPc(s)
  }

  addScript(s: UploadScript): void {
    requireAttempts(s.attempts, 'An upload script')
    this.scripts.push(s)
  }

  private seedImage(s: SeedImage): void {
    const t = this.now()
    const modifiedAt = s.lastModifiedDateTime === undefined ? t : Date.parse(s.lastModifiedDateTime)
    const status = s.status ?? 'ready'
    const ownAttempts = s.attempts && requireAttempts(s.attempts, `Seed image '${s.displayName}'`)
    this.images.push({
      id: s.id ?? this.ids.uuid(),
      displayName: s.displayName,
      version: s.version,
      sourceImageResourceId: s.sourceImageResourceId,
      ownAttempts,
      upload: 0,
      phase: ownAttempts
        ? phaseOf(ownAttempts[0], t)
        : {
            startedAt: modifiedAt,
            pendingMs: status === 'pending' ? Infinity : 0,
            outcome: status,
            errorCode: s.errorCode ? canonicalErrorCode(s.errorCode) : null
          },
      modifiedAt
    })
  }

  private seedPolicy(s: SeedPolicy): void {
    const imageId = s.imageId ?? GALLERY_IMAGE_ID
    const image = this.findImage(imageId)
    this.policies.push({
      id: s.id ?? this.ids.uuid(),
      displayName: s.displayName,
      imageId,
      imageDisplayName: s.imageDisplayName ?? image?.displayName ?? GALLERY_IMAGE_NAME,
      imageType: s.imageType ?? (image ? 'custom' : 'gallery')
    })
  }

  private seedCloudPc(s: SeedCloudPc): void {
    const t = this.now()
    this.cloudPcs.push({
      id: s.id ?? this.ids.uuid(),
      displayName: s.displayName,
      userPrincipalName: s.userPrincipalName ?? null,
      provisioningPolicyId: s.provisioningPolicyId,
      imageDisplayName: this.findPolicy(s.provisioningPolicyId)?.imageDisplayName ?? null,
      status: s.status ?? 'provisioned',
      provisionedAt: s.provisionedDateTime === undefined ? t : Date.parse(s.provisionedDateTime),
      lastReprovision: null,
      modifiedAt: t,
      reprovisions: 0,
      script: { ...s.reprovision }
    })
  }

  findImage(id: string): ImageRecord | undefined {
    return this.images.find(i => sameId(i.id, id))
  }

  findPolicy(id: string): PolicyRecord | undefined {
    return this.policies.find(p => sameId(p.id, id))
  }

  findCloudPc(id: string): CloudPcRecord | undefined {
    return this.cloudPcs.find(p => sameId(p.id, id))
  }

  createImage(fields: { displayName: string; version: string; sourceImageResourceId: string }): ImageRecord {
    const t = this.now()
    const img: ImageRecord = {
      id: this.ids.uuid(),
      ...fields,
      upload: 0,
      phase: phaseOf(this.attemptFor(fields, 0), t),
      modifiedAt: t
    }
    this.images.push(img)
    return img
  }

  /**
   * retryUpload / reupload (and a PATCH that starts an upload): the next scripted attempt starts
   * now. For `staleMs` reads keep showing the image as it was before.
   */
  restartUpload(img: ImageRecord, staleMs = 0): void {
    const t = this.now()
    const { displayName, version, sourceImageResourceId, phase, modifiedAt } = img
    img.stale =
      staleMs > 0 ? { until: t + staleMs, before: { displayName, version, sourceImageResourceId, phase, modifiedAt } } : undefined
    img.upload += 1
    img.phase = phaseOf(this.attemptFor(img, img.upload), t)
    img.modifiedAt = t
  }

  /** The script is looked up when each upload starts, so scripts added later still apply. */
  private attemptFor(img: UploadSubject, upload: number): UploadAttempt {
    const attempts = img.ownAttempts ?? this.scripts.find(s => scriptMatches(s, img))?.attempts ?? this.defaultUpload
    return attempts[Math.min(upload, attempts.length - 1)]
  }

  /** An accepted image PATCH; the upload in progress (or its result) stays unless the caller restarts it. */
  updateImage(img: ImageRecord, fields: Partial<Pick<ImageRecord, 'displayName' | 'version' | 'sourceImageResourceId'>>): void {
    img.displayName = fields.displayName ?? img.displayName
    img.version = fields.version ?? img.version
    img.sourceImageResourceId = fields.sourceImageResourceId ?? img.sourceImageResourceId
    img.modifiedAt = this.now()
  }

  flip(img: ImageRecord, status: ImageStatus, errorCode: string | undefined): void {
    const t = this.now()
    img.stale = undefined
    img.phase = {
      startedAt: t,
      pendingMs: status === 'pending' ? Infinity : 0,
      outcome: status,
      errorCode: errorCode === undefined ? null : canonicalErrorCode(errorCode)
    }
    img.modifiedAt = t
  }

  deleteImage(img: ImageRecord): void {
    this.images.splice(this.images.indexOf(img), 1)
  }

  imageStatus(img: ImageRecord): ImageStatus {
    return this.now() >= img.phase.startedAt + img.phase.pendingMs ? img.phase.outcome : 'pending'
  }

  policiesUsing(img: ImageRecord): PolicyRecord[] {
    return this.policies.filter(p => sameId(p.imageId, img.id))
  }

  /** What a GET or a list shows: during a stale window, the image as it was before the retry. */
  readImage(img: ImageRecord, view: EnumView): ImageView {
    const stale = img.stale !== undefined && this.now() < img.stale.until ? img.stale.before : undefined
    return this.renderImage(stale ? { ...img, ...stale } : img, view)
  }

  /** `fillOsFields` renders the OS fields of a pending image (the beta create example does). */
  renderImage(img: ImageRecord, view: EnumView, fillOsFields = false): ImageView {
    const status = this.imageStatus(img)
    const settledAt = img.phase.startedAt + img.phase.pendingMs
    const usable = status === 'ready' || status === 'warning'
    const os = usable || fillOsFields
    return {
      id: img.id,
      displayName: img.displayName,
      version: img.version,
      sourceImageResourceId: img.sourceImageResourceId,
      operatingSystem: os ? OS_FIELDS.operatingSystem : null,
      osBuildNumber: os ? OS_FIELDS.osBuildNumber : null,
      osVersionNumber: os ? OS_FIELDS.osVersionNumber : null,
      sizeInGB: os ? OS_FIELDS.sizeInGB : null,
      lastModifiedDateTime: new Date(status === 'pending' ? img.modifiedAt : Math.max(img.modifiedAt, settledAt)).toISOString(),
      status: presentImageStatus(status, view),
      errorCode: status === 'failed' ? presentErrorCode(img.phase.errorCode, view) : null,
      osStatus: os ? OS_FIELDS.osStatus : null,
      expirationDate: os ? expiryDate(usable ? settledAt : this.now()) : null
    }
  }

  renderPolicy(p: PolicyRecord): PolicyView {
    return {
      id: p.id,
      displayName: p.displayName,
      imageId: p.imageId,
      imageDisplayName: p.imageDisplayName,
      imageType: p.imageType
    }
  }

  /** The true status now, whatever reads show: `provisioning` while a reprovision runs. */
  cloudPcStatus(pc: CloudPcRecord): string {
    const action = pc.lastReprovision
    if (action === null) return pc.status
    if (this.now() < action.endsAt) return 'provisioning'
    // A status set after the rebuild ended (setCloudPcStatus) is newer than its outcome.
    return pc.statusSetAt !== undefined && pc.statusSetAt >= action.endsAt ? pc.status : action.outcome
  }

  /** The status changes outside any reprovision, as when a user's licence is removed (inGracePeriod). */
  setCloudPcStatus(pc: CloudPcRecord, status: string): void {
    pc.status = status
    pc.statusSetAt = this.now()
    pc.modifiedAt = this.now()
  }

  canReprovision(pc: CloudPcRecord): boolean {
    return REPROVISIONABLE.has(this.cloudPcStatus(pc))
  }

  /**
   * Starts a rebuild now, run as the Cloud PC's script says (`defaultMs` when it names no duration).
   * For `staleMs` reads keep showing the Cloud PC as they showed it just before.
   */
  reprovision(pc: CloudPcRecord, defaultMs: number, staleMs = 0): void {
    const t = this.now()
    const { imageDisplayName, status, provisionedAt, lastReprovision, modifiedAt } = this.visibleCloudPc(pc)
    pc.stale =
      staleMs > 0
        ? { until: t + staleMs, before: { imageDisplayName, status, provisionedAt, lastReprovision, modifiedAt } }
        : undefined
    const previous = pc.lastReprovision
    if (previous !== null && t >= previous.endsAt && !(pc.statusSetAt !== undefined && pc.statusSetAt >= previous.endsAt)) {
      pc.status = previous.outcome
      if (previous.outcome === 'provisioned') pc.provisionedAt = previous.endsAt
    }
    pc.lastReprovision = {
      startedAt: t,
      endsAt: t + (pc.script.durationMs ?? defaultMs),
      outcome: pc.script.outcome ?? 'provisioned'
    }
    pc.modifiedAt = t
    pc.reprovisions += 1
    pc.imageDisplayName = this.findPolicy(pc.provisioningPolicyId)?.imageDisplayName ?? pc.imageDisplayName
  }

  scriptReprovision(pc: CloudPcRecord, script: ReprovisionScript): void {
    pc.script = { ...script }
  }

  /** The record as reads see it: during a stale window, as it was before the reprovision. */
  private visibleCloudPc(pc: CloudPcRecord): CloudPcRecord {
    return pc.stale !== undefined && this.now() < pc.stale.until ? { ...pc, ...pc.stale.before } : pc
  }

  /** What a GET or a list shows; `remoteActionResult` false renders lastRemoteActionResult null. */
  readCloudPc(pc: CloudPcRecord, view: EnumView, remoteActionResult = true): CloudPcView {
    return this.renderCloudPc(this.visibleCloudPc(pc), view, remoteActionResult)
  }

  private renderCloudPc(pc: CloudPcRecord, view: EnumView, remoteActionResult: boolean): CloudPcView {
    const action = pc.lastReprovision
    const busy = action !== null && this.now() < action.endsAt
    const done = action !== null && !busy
    const failed = done && action.outcome === 'failed'
    const rendered: CloudPcView = {
      id: pc.id,
      displayName: pc.displayName,
      userPrincipalName: pc.userPrincipalName,
      provisioningPolicyId: pc.provisioningPolicyId,
      provisioningPolicyName: this.findPolicy(pc.provisioningPolicyId)?.displayName ?? null,
      imageDisplayName: pc.imageDisplayName,
      lastModifiedDateTime: new Date(done ? action.endsAt : pc.modifiedAt).toISOString()
    }
    // v1.0 cloudPC has none of these (docs/graph-facts.md#cloud-pc-fields); beta's show a reprovision's progress.
    if (view.version === 'v1.0') return rendered
    return {
      ...rendered,
      status: presentCloudPcStatus(this.cloudPcStatus(pc), view),
      // A failed rebuild leaves the last provisioning as it was.
      provisionedDateTime: new Date(done && !failed ? action.endsAt : pc.provisionedAt).toISOString(),
      lastRemoteActionResult:
        action === null || !remoteActionResult
          ? null
          : {
              actionName: 'reprovision',
              actionState: busy ? 'active' : failed ? 'failed' : 'done',
              startDateTime: new Date(action.startedAt).toISOString(),
              lastUpdatedDateTime: new Date(busy ? action.startedAt : action.endsAt).toISOString(),
              statusDetail: failed ? reprovisionFailure() : null
            }
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** `over` onto `base`: objects merge key by key, anything else (arrays included) replaces; undefined keeps. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over)
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) merged[key] = deepMerge(base[key], value)
  return merged
}

/** ARM's spelling of a date-time: seven fractional digits and an explicit offset. */
function armDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000+00:00')
}

/** What a resource type renders besides the envelope every ARM resource shares. */
type ArmBody<V = ArmResourceView> = V extends ArmResourceView ? Pick<V, 'type' | 'properties'> : never

const ARM_LOCATION = 'westeurope'
const ARM_REGION_NAME = 'West Europe'

/**
 * The source images Azure Resource Manager serves. Every ID has a resource: a seed's, or the default
 * that passes every Windows 365 requirement (Windows, generalized, generation 2, no data disks, no
 * disk encryption set; a gallery definition x64 with Trusted Launch).
 */
export class ArmStore {
  private readonly seeds = new Map<string, ArmResourceSeed>()

  /** `publishedAt` dates every gallery image version. */
  constructor(private readonly publishedAt: number) {}

  /** Adds a seed, or replaces the one with the same ID. */
  set(ref: ArmResourceRef, seed: ArmResourceSeed): void {
    this.seeds.set(ref.id.toLowerCase(), seed)
  }

  find(ref: ArmResourceRef): ArmResourceSeed | undefined {
    return this.seeds.get(ref.id.toLowerCase())
  }

  /** The resource as a GET renders it: the passing default with the seed's changes. */
  render(ref: ArmResourceRef, seed: ArmResourceSeed | undefined): ArmResourceView {
    const { type, properties } = this.passing(ref)
    // In ARM's order: the envelope, then the properties.
    return {
      id: seed?.id ?? ref.id,
      name: ref.names[ref.names.length - 1],
      type,
      location: seed?.location ?? ARM_LOCATION,
      tags: { ...seed?.tags },
      properties: deepMerge(properties, seed?.properties)
    } as ArmResourceView
  }

  private passing(ref: ArmResourceRef): ArmBody {
    switch (ref.kind) {
      case 'image':
        return {
          type: 'Microsoft.Compute/images',
          properties: {
            storageProfile: {
              osDisk: {
                osType: 'Windows',
                osState: 'Generalized',
                diskSizeGB: 127,
                caching: 'ReadWrite',
                storageAccountType: 'Premium_LRS'
              },
              dataDisks: [],
              zoneResilient: false
            },
            provisioningState: 'Succeeded',
            hyperVGeneration: 'V2'
          }
        }
      case 'galleryImage':
        return {
          type: 'Microsoft.Compute/galleries/images',
          properties: {
            identifier: { publisher: 'Contoso', offer: 'windows-11-cloudpc', sku: ref.names[1] },
            osType: 'Windows',
            osState: 'Generalized',
            hyperVGeneration: 'V2',
            architecture: 'x64',
            features: [{ name: 'SecurityType', value: 'TrustedLaunch' }],
            provisioningState: 'Succeeded'
          }
        }
      case 'galleryImageVersion':
        return {
          type: 'Microsoft.Compute/galleries/images/versions',
          properties: {
            publishingProfile: {
              targetRegions: [{ name: ARM_REGION_NAME, regionalReplicaCount: 1, storageAccountType: 'Standard_LRS' }],
              replicaCount: 1,
              excludeFromLatest: false,
              publishedDate: armDateTime(this.publishedAt),
              storageAccountType: 'Standard_LRS'
            },
            storageProfile: {
              osDiskImage: { sizeInGB: 127, hostCaching: 'ReadWrite' },
              dataDiskImages: []
            },
            provisioningState: 'Succeeded'
          }
        }
    }
  }
}
