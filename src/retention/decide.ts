// What `keepVersions` deletes, decided from what the tenant holds. Pure: values in, values out.
// Only older versions of this displayName that no provisioning policy uses are ever deleted; the
// published image, anything not older than it and the newest `keepVersions` versions stay.

import { type DeviceImage, IMAGE_LIMIT, type ProvisioningPolicy, sameId, usesImage } from '../graph/model.js'

/** major, minor, patch */
export type Version = readonly [number, number, number]

/**
 * Reads `major.minor.patch` as numbers, so `1.2.10` is newer than `1.2.3`. Images made by other
 * tools may carry any version string: those give `undefined` and are never deleted.
 */
export function parseVersion(raw: unknown): Version | undefined {
  if (typeof raw !== 'string') return undefined
  const match = /^(\d{1,15})\.(\d{1,15})\.(\d{1,15})$/.exec(raw.trim())
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined
}

/** Negative when `a` is older than `b`, positive when newer, 0 when the same version. */
export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]
}

export type RetentionReason =
  /** Kept: the image this run published. */
  | 'published'
  /** Kept: among the newest `keepVersions` versions. */
  | 'newest'
  /** Kept: not older than the published version (a later release, or the same version twice). */
  | 'notOlder'
  /** Kept: its version is not major.minor.patch, so its place in the order is unknown. */
  | 'unknownVersion'
  /** Kept: a provisioning policy uses it. */
  | 'inUse'
  /** Deleted: older than the versions kept, and no policy uses it. */
  | 'older'

export interface RetentionDecision {
  image: DeviceImage
  delete: boolean
  reason: RetentionReason
  /** The policies that use the image (for `inUse`). */
  usedBy: ProvisioningPolicy[]
}

export interface RetentionInput {
  /** Every image the tenant holds; those of other names are left out here. */
  images: DeviceImage[]
  displayName: string
  /** The published image; no `id` while it is yet to be created (making room, a dry run). */
  published: { id?: string; version: string }
  keepVersions: number
  policies: ProvisioningPolicy[]
}

/** The images of this displayName, newest first, each with what retention does to it and why. */
export function decideRetention(input: RetentionInput): RetentionDecision[] {
  const published = parseVersion(input.published.version)
  // The published version is an input, checked before any request: this never happens in a run.
  if (!published) throw new Error(`The published version "${input.published.version}" is not major.minor.patch.`)
  // Exactly this name: an image whose name differs only in case or spacing may be another team's,
  // and a delete is not undone. (Finding the image to reuse stays case-insensitive, as the service is.)
  const family = input.images
    .filter(image => image.displayName === input.displayName)
    .map(image => ({ image, version: parseVersion(image.version) }))
    .sort((a, b) => newestFirst(a.version, b.version))
  // The newest `keepVersions` versions, the published one counted even before it exists; an image
  // listed twice under one version counts once.
  const versions = uniqueVersions([published, ...family.flatMap(f => (f.version ? [f.version] : []))])
  const kept = versions.slice(0, input.keepVersions)
  const publishedId = input.published.id
  return family.map(({ image, version }) => {
    const usedBy = input.policies.filter(policy => usesImage(policy, image.id))
    const keep = (reason: RetentionReason): RetentionDecision => ({ image, delete: false, reason, usedBy })
    if (publishedId !== undefined && sameId(image.id, publishedId)) return keep('published')
    if (!version) return keep('unknownVersion')
    if (kept.some(k => compareVersions(k, version) === 0)) return keep('newest')
    if (compareVersions(version, published) >= 0) return keep('notOlder')
    if (usedBy.length > 0) return keep('inUse')
    return { image, delete: true, reason: 'older', usedBy }
  })
}

/** What retention deletes, oldest first. */
export function toDelete(decisions: RetentionDecision[]): DeviceImage[] {
  return decisions
    .filter(d => d.delete)
    .map(d => d.image)
    .reverse()
}

export type RoomPlan =
  | { kind: 'notNeeded' }
  /** Delete these first: the oldest of what retention would delete after a success anyway. */
  | { kind: 'delete'; images: DeviceImage[]; decisions: RetentionDecision[] }
  /** The tenant is full and retention may not delete enough (or keepVersions is unset). */
  | { kind: 'full'; need: number; decisions: RetentionDecision[] }

export interface RoomInput {
  images: DeviceImage[]
  displayName: string
  /** The version about to be created. */
  version: string
  keepVersions?: number
  /** The policies as they are now: an image a policy uses now is never deleted to make room. */
  policies: ProvisioningPolicy[]
}

/**
 * Before a create in a full tenant: delete only as many images as make room for one, and only
 * ones retention would delete after a success anyway; when that is not enough, delete nothing.
 */
export function planRoom(input: RoomInput): RoomPlan {
  const need = input.images.length - IMAGE_LIMIT + 1
  if (need <= 0) return { kind: 'notNeeded' }
  if (input.keepVersions === undefined) return { kind: 'full', need, decisions: [] }
  const decisions = decideRetention({ ...input, keepVersions: input.keepVersions, published: { version: input.version } })
  const deletable = toDelete(decisions)
  if (deletable.length < need) return { kind: 'full', need, decisions }
  return { kind: 'delete', images: deletable.slice(0, need), decisions }
}

/** Why an image is kept or deleted, in words for the log and the summary. */
export function describeDecision(decision: RetentionDecision, keepVersions: number, publishedVersion: string): string {
  switch (decision.reason) {
    case 'published':
      return 'the image this run published'
    case 'newest':
      return `among the ${keepVersions} newest version${keepVersions === 1 ? '' : 's'} (keepVersions: ${keepVersions})`
    case 'notOlder':
      return `not older than the published version ${publishedVersion}`
    case 'unknownVersion':
      return 'its version is not major.minor.patch, so its place in the order is unknown'
    case 'inUse':
      return `in use by ${decision.usedBy.map(policy => `policy "${policy.displayName ?? ''}" (${policy.id})`).join(', ')}`
    case 'older':
      return `older than the ${keepVersions} newest version${keepVersions === 1 ? '' : 's'}, and no provisioning policy uses it`
  }
}

function newestFirst(a: Version | undefined, b: Version | undefined): number {
  // Images without a readable version go last.
  if (!a || !b) return Number(!a) - Number(!b)
  return compareVersions(b, a)
}

function uniqueVersions(versions: Version[]): Version[] {
  const sorted = [...versions].sort((a, b) => compareVersions(b, a))
  return sorted.filter((v, i) => i === 0 || compareVersions(v, sorted[i - 1]) !== 0)
}
