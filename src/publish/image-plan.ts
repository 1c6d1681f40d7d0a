// What to do about the image, decided from what exists and the onExisting rule. Pure.

import { type DeviceImage, IMAGE_LIMIT, isSameSource, type ProvisioningPolicy, usesImage } from '../graph/model.js'
import { parseImageStatus } from '../graph/model.js'
import type { OnExisting } from '../inputs.js'
import type { RetentionDecision } from '../retention/decide.js'

export type Plan =
  | { kind: 'create' }
  | { kind: 'reuse'; image: DeviceImage; alreadyFailed: boolean }
  | { kind: 'update'; image: DeviceImage }
  | { kind: 'replace'; image: DeviceImage }
  | { kind: 'refuse'; image: DeviceImage; title: string; message: string }

export interface PlanInput {
  displayName: string
  version: string
  sourceImageResourceId: string
  onExisting: OnExisting
}

export function planImage(want: PlanInput, matches: DeviceImage[]): Plan {
  if (matches.length === 0) return { kind: 'create' }
  // Should the tenant already hold duplicates, prefer the one built from the wanted source.
  const image = matches.find(m => isSameSource(m.sourceImageResourceId, want.sourceImageResourceId)) ?? matches[0]
  const same = isSameSource(image.sourceImageResourceId, want.sourceImageResourceId)
  const label = `"${image.displayName}" version ${image.version} (${image.id})`
  const reuse: Plan = { kind: 'reuse', image, alreadyFailed: parseImageStatus(image.status) === 'failed' }
  switch (want.onExisting) {
    case 'fail':
      return {
        kind: 'refuse',
        image,
        title: 'Image already exists',
        message: `Image ${label} already exists and onExisting is fail. Publish a new version, or set onExisting to reuse, update or replace.`
      }
    case 'reuse':
      if (same) return reuse
      return {
        kind: 'refuse',
        image,
        title: 'Image exists with another source',
        message: `Image ${label} already exists with the source ${image.sourceImageResourceId}, not ${want.sourceImageResourceId}. Publish it as a new version (for example ${nextPatch(want.version)}), or set onExisting to update or replace.`
      }
    case 'update': {
      if (same) return reuse
      const status = parseImageStatus(image.status)
      if (status === 'failed') return { kind: 'update', image }
      // Only a failed upload can be asked to run again (retryUpload); a PATCH alone would leave the
      // record naming the new source over the old upload.
      return {
        kind: 'refuse',
        image,
        title: 'Image cannot be updated',
        message: `Image ${label} is ${String(image.status)} with the source ${image.sourceImageResourceId}. onExisting: update uploads ${want.sourceImageResourceId} only into an image whose upload failed: the service offers no documented way to upload a ${String(image.status)} image again. Set onExisting to replace (delete the image and create it anew) or publish a new version (for example ${nextPatch(want.version)}).`
      }
    }
    case 'replace':
      return { kind: 'replace', image }
  }
}

export function nextPatch(version: string): string {
  const [major, minor, patch] = version.split('.').map(Number)
  return `${major}.${minor}.${patch + 1}`
}

/** Images no provisioning policy uses, oldest first: the ones a user can delete to make room. */
function unusedImages(images: DeviceImage[], policies: ProvisioningPolicy[]): DeviceImage[] {
  return images
    .filter(image => !policies.some(policy => usesImage(policy, image.id)))
    .sort((a, b) => modifiedAt(a) - modifiedAt(b))
}

/** When the image last changed; one that does not say sorts last. */
function modifiedAt(image: DeviceImage): number {
  const at = Date.parse(image.lastModifiedDateTime ?? '')
  return Number.isNaN(at) ? Number.MAX_SAFE_INTEGER : at
}

export interface FullTenantRetention {
  displayName: string
  version: string
  keepVersions?: number
  /** How many images must go to make room for one. */
  need: number
  /** What retention decided about the images of this displayName. */
  decisions: RetentionDecision[]
}

export function tenantFullMessage(images: DeviceImage[], policies: ProvisioningPolicy[], retention: FullTenantRetention): string {
  const unused = unusedImages(images, policies)
  const lines = [
    `The tenant already holds ${images.length} custom images, the most Windows 365 allows (${IMAGE_LIMIT}), so no new image can be created.`
  ]
  if (unused.length > 0)
    lines.push(
      'Images no provisioning policy uses, oldest first:',
      ...unused.map(
        i => `- "${i.displayName}" ${i.version} (${i.id}, last modified ${(i.lastModifiedDateTime ?? 'unknown').slice(0, 10)})`
      ),
      'Delete one of them (Intune admin center > Devices > Windows 365 > Custom images) and run again.'
    )
  else
    lines.push(
      'Every image is used by a provisioning policy: point a policy at another image, then delete the one it no longer uses.'
    )
  const name = `"${retention.displayName}"`
  if (retention.keepVersions === undefined)
    lines.push(
      `Or set keepVersions (for example 3): the action then deletes older versions of ${name} that no policy uses, to make room before a create and after each successful publish.`
    )
  else {
    const deletable = retention.decisions.filter(d => d.delete).length
    lines.push(
      `keepVersions is ${retention.keepVersions}, but ${deletable === 0 ? 'no image' : `only ${deletable} image${deletable === 1 ? '' : 's'}`} of ${name} may be deleted to make room (${retention.need} must go): the others are among the ${retention.keepVersions} newest versions, not older than ${retention.version}, or used by a policy. Nothing was deleted.`
    )
  }
  return lines.join('\n')
}
