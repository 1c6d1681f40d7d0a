// Deletes what retention decided (src/retention/decide.ts): before the create, to make room in a full
// tenant, and after a successful publish and roll-out. Every deletion goes into the report as it
// happens. After a success a delete that fails is a warning naming the image: the publish stands.

import { ActionError, CancelledError, isRefusal, messageOf } from '../core/errors.js'
import type { GraphClient } from '../graph/client.js'
import { canonicalId, type DeviceImage, IMAGE_LIMIT, type ProvisioningPolicy, usesImage } from '../graph/model.js'
import { deleteImage, listImages, listPolicies } from '../graph/images.js'
import type { Settings } from '../inputs.js'
import type { Logger } from '../core/logger.js'
import type { RetentionEntry, RetentionReport, RunReport } from '../report/run-report.js'
import { decideRetention, describeDecision, type RetentionDecision, toDelete } from './decide.js'

export interface PruneDeps {
  client: GraphClient
  logger: Logger
  signal?: AbortSignal
}

function label(image: DeviceImage): string {
  return `"${image.displayName}" ${image.version} (${image.id})`
}

function entryOf(
  image: DeviceImage,
  outcome: RetentionEntry['outcome'],
  why: string,
  flags: { toMakeRoom?: boolean; inUse?: boolean } = {}
): RetentionEntry {
  return {
    id: image.id,
    displayName: image.displayName,
    version: image.version,
    status: String(image.status ?? ''),
    outcome,
    toMakeRoom: flags.toMakeRoom ?? false,
    inUse: flags.inUse ?? false,
    why
  }
}

/**
 * Before the create in a full tenant: deletes the images `planRoom` chose. A delete that fails here
 * fails the step, since the create cannot happen without the room.
 */
export async function makeRoom(
  images: DeviceImage[],
  decisions: RetentionDecision[],
  held: number,
  settings: Settings,
  report: RunReport,
  deps: PruneDeps
): Promise<void> {
  const retention = report.retention!
  const why = (image: DeviceImage): string => {
    const decision = decisions.find(d => d.image.id === image.id)!
    return `${describeDecision(decision, retention.keepVersions, settings.version)}; deleted before the create, as the tenant held ${held} of the ${IMAGE_LIMIT} images Windows 365 allows`
  }
  for (const image of images) {
    if (settings.dryRun) {
      retention.entries.push(entryOf(image, 'would delete', why(image), { toMakeRoom: true }))
      deps.logger.info(`Would delete image ${label(image)} to make room: ${why(image)}.`)
      continue
    }
    try {
      await deleteImage(deps.client, image.id, deps.logger)
    } catch (error) {
      if (error instanceof CancelledError) throw error
      retention.entries.push(entryOf(image, 'not deleted', messageOf(error), { toMakeRoom: true }))
      throw new ActionError(
        'Could not make room',
        `The tenant holds ${held} of the ${IMAGE_LIMIT} images Windows 365 allows, and deleting image ${label(image)} to make room failed: ${messageOf(error)} No image was created. Delete an unused image in the Intune admin center (Devices > Windows 365 > Custom images) and run again.`
      )
    }
    retention.entries.push(entryOf(image, 'deleted', why(image), { toMakeRoom: true }))
    report.deletedImageIds.push(image.id)
    deps.logger.info(`Deleted image ${label(image)} to make room: ${why(image)}.`)
  }
}

/**
 * After a successful publish and roll-out (or in a dry run): keeps the newest `keepVersions`
 * versions of this displayName and deletes the older ones no provisioning policy uses.
 */
export async function applyRetention(settings: Settings, report: RunReport, deps: PruneDeps): Promise<void> {
  const retention = report.retention!
  const { logger } = deps
  const published = report.image
  const succeeded = report.outcome === 'ready' || report.outcome === 'warning'
  if (!settings.dryRun && !succeeded) {
    retention.notRun = `Nothing was deleted after the publish: image ${published?.id ?? ''} was not seen ready (wait: false), and keepVersions deletes old versions only after a successful publish.`
    logger.notice(retention.notRun, { title: 'Retention not run' })
    return
  }
  let images: DeviceImage[]
  let policies: ProvisioningPolicy[]
  try {
    images = await listImages(deps.client)
    policies = await listPolicies(deps.client)
  } catch (error) {
    if (error instanceof CancelledError) throw error
    retention.notRun = `Nothing was deleted: the images or policies could not be listed (${messageOf(error)}). The next run with keepVersions deletes what is due.`
    logger.warning(retention.notRun, { title: 'Retention not run' })
    return
  }
  if (settings.dryRun) {
    // What the tenant would hold after a success: without what making room deletes, and with the
    // rolled-out policies pointing at the new image rather than at the ones they use today.
    const goneFirst = new Set(retention.entries.map(e => e.id))
    images = images.filter(image => !goneFirst.has(image.id))
    const rolledOut = new Set(settings.provisioningPolicyIds.map(canonicalId))
    policies = policies.map(p => (rolledOut.has(canonicalId(p.id)) ? { ...p, imageId: published?.id ?? null } : p))
  }
  const decisions = decideRetention({
    images,
    displayName: settings.displayName,
    published: { id: published?.id, version: settings.version },
    keepVersions: retention.keepVersions,
    policies
  })
  retention.ran = true
  const why = (d: RetentionDecision): string => describeDecision(d, retention.keepVersions, settings.version)
  for (const d of decisions)
    if (!d.delete) {
      retention.entries.push(entryOf(d.image, 'kept', why(d), { inUse: d.reason === 'inUse' }))
      if (d.reason === 'inUse') logger.info(`Kept image ${label(d.image)}: ${why(d)}.`)
    }
  const doomed = toDelete(decisions)
  for (const image of doomed) {
    const d = decisions.find(x => x.image === image)!
    if (settings.dryRun) {
      retention.entries.push(entryOf(image, 'would delete', why(d)))
      logger.info(`Would delete image ${label(image)} after a success: ${why(d)}.`)
      continue
    }
    if (deps.signal?.aborted) throw cancelled(retention, doomed.length)
    try {
      await deleteImage(deps.client, image.id, logger)
      retention.entries.push(entryOf(image, 'deleted', why(d)))
      report.deletedImageIds.push(image.id)
      logger.info(`Deleted image ${label(image)}: ${why(d)}.`)
    } catch (error) {
      if (error instanceof CancelledError) throw cancelled(retention, doomed.length, image)
      retention.entries.push(await notDeleted(image, error, deps))
    }
  }
  const count = (outcome: RetentionEntry['outcome']) => retention.entries.filter(e => e.outcome === outcome).length
  const line = settings.dryRun
    ? `Retention (keepVersions: ${retention.keepVersions}): would keep ${count('kept')} and delete ${count('would delete')} image${count('would delete') === 1 ? '' : 's'} of "${settings.displayName}".`
    : `Retention (keepVersions: ${retention.keepVersions}): kept ${count('kept')}, deleted ${count('deleted')}${count('not deleted') ? `, could not delete ${count('not deleted')}` : ''}.`
  logger.info(line)
  if (settings.dryRun) report.plan.push(line)
}

/**
 * A delete the service refused may mean a policy started using the image since it was listed: that
 * image is kept for the right reason. Anything else is a warning; the next run tries again.
 */
async function notDeleted(image: DeviceImage, error: unknown, deps: PruneDeps): Promise<RetentionEntry> {
  if (isRefusal(error)) {
    const users = await listPolicies(deps.client).then(
      policies => policies.filter(policy => usesImage(policy, image.id)),
      () => []
    )
    if (users.length > 0) {
      const why = `a provisioning policy started using it: ${users.map(p => `"${p.displayName ?? ''}" (${p.id})`).join(', ')}`
      deps.logger.info(`Kept image ${label(image)}: the service refused the delete, as ${why}.`)
      return entryOf(image, 'kept', why, { inUse: true })
    }
  }
  deps.logger.warning(
    `Could not delete image ${label(image)}: ${messageOf(error)} The published image is unaffected; the next run with keepVersions tries again, or delete it in the Intune admin center.`,
    { title: 'Old image not deleted' }
  )
  return entryOf(image, 'not deleted', messageOf(error))
}

/** `inFlight`: the image whose delete was under way, which may have taken effect. */
function cancelled(retention: RetentionReport, due: number, inFlight?: DeviceImage): CancelledError {
  const deleted = retention.entries.filter(e => e.outcome === 'deleted' && !e.toMakeRoom).length
  const flight = inFlight ? ` The delete of image ${label(inFlight)} was under way and may have taken effect.` : ''
  return new CancelledError(
    `The run was cancelled during retention, after the publish and roll-out succeeded: ${deleted} of ${due} old versions were seen deleted (deletedImageIds).${flight} The next run with keepVersions deletes the rest.`
  )
}
