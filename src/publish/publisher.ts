// Publishes the image: find what exists, decide, create/adopt/update/replace, then wait.
// Everything learned goes into the report as soon as it is known.

import type { Clock } from '../core/clock.js'
import { ActionError, isNotFound, isRefusal } from '../core/errors.js'
import type { GraphClient } from '../graph/client.js'
import { type DeviceImage, IMAGE_LIMIT, isSameImage, parseImageStatus, usesImage } from '../graph/model.js'
import { imageHealthWarnings } from './image-health.js'
import {
  createImage,
  type CreateOutcome,
  deleteImage,
  listImages,
  listPolicies,
  readImage,
  requestUploadRetry,
  updateImageSource,
  type ImageRead
} from '../graph/images.js'
import { isGallerySource, type Settings } from '../inputs.js'
import type { Logger } from '../core/logger.js'
import { type Plan, planImage, tenantFullMessage } from './image-plan.js'
import { makeRoom } from '../retention/apply.js'
import { planRoom, type RetentionDecision } from '../retention/decide.js'
import type { Failure, PublishResult, RunReport } from '../report/run-report.js'
import { formatDuration } from '../core/duration.js'
import { type FailedWait, firstRetryState, type UploadEnd, uploadStep, waitForImage } from './wait.js'

type ImageKey = { displayName: string; version: string; sourceImageResourceId: string }

export interface PublishDeps {
  client: GraphClient
  clock: Clock
  logger: Logger
  signal?: AbortSignal
}

export async function publishImage(settings: Settings, report: RunReport, deps: PublishDeps): Promise<void> {
  const { client, logger } = deps
  const key: ImageKey = {
    displayName: settings.displayName,
    version: settings.version,
    sourceImageResourceId: settings.sourceImageResourceId
  }

  const plan = await logger.group('Find the image', async () => {
    const all = await listImages(client)
    const matches = all.filter(image => isSameImage(image, key))
    if (matches.length > 1)
      logger.warning(
        `The tenant holds ${matches.length} images named "${key.displayName}" version ${key.version}; using one built from the same source when there is one.`
      )
    const decided = planImage({ ...key, onExisting: settings.onExisting }, matches)
    if (decided.kind !== 'create') report.image = decided.image
    if (decided.kind === 'refuse') throw new ActionError(decided.title, decided.message)
    const described = describePlan(decided, settings)
    logger.info(described)
    const room = await checkPlan(decided, all, client, settings)
    if (settings.dryRun) {
      report.plan.push(described)
      if (room) {
        await makeRoom(room.images, room.decisions, all.length, settings, report, deps)
        report.plan.push(
          `Delete ${room.images.map(i => `"${i.displayName}" ${i.version} (${i.id})`).join(', ')} first, to make room: the tenant holds ${all.length} of ${IMAGE_LIMIT} images.`
        )
      }
    }
    return { decided, all, room }
  })

  if (settings.dryRun) {
    report.result = 'planned'
    report.outcome = 'planned'
    return
  }

  // Reusing an image writes nothing, so it opens no group with nothing in it.
  const run = () => execute(plan.decided, plan.room, settings, plan.all, report, deps)
  const { read, result, failedBeforeRun, uploadNewSource } =
    plan.decided.kind === 'reuse' ? await run() : await logger.group('Publish the image', run)
  // `updated` means the new source was uploaded: it is set only once the upload is seen to succeed.
  if (result !== 'updated') report.result = result
  // A failure is quoted with the IDs of the read that saw it, which Microsoft support asks for: an
  // image known only from the list or a write's answer is read on its own first.
  const first: ImageRead =
    parseImageStatus(read.image.status) === 'failed' && !read.ids ? await readImage(client, read.image.id) : read
  const image = first.image
  report.image = image
  const retryUpload = async (deadline: number | undefined, failed: DeviceImage): Promise<string> => {
    const route = await requestUploadRetry(client, failed, deadline, logger)
    report.uploadRetries++
    report.timeline.push({ at: deps.clock.now(), label: `retry ${report.uploadRetries}`, kind: 'action' })
    return route
  }

  // The end of the upload, the same whether the run waited for it or saw it in the first step.
  const finish = (end: UploadEnd): void => {
    report.image = end.image
    if (end.kind === 'failed') fail(report, settings, end, uploadNewSource)
    report.result = result
    report.outcome = end.kind
    if (end.kind === 'ready') logger.info(`Image ${end.image.id} is ready.`)
    else
      logger.warning(
        `Image ${end.image.id} finished with status warning: it can be used, but check it in the Intune admin center (Devices > Windows 365 > Custom images).`,
        { title: 'Image ready with a warning' }
      )
    noteImageHealth(report, end.image, deps)
  }
  const start = { failedBeforeRun, uploadNewSource }

  if (!settings.wait) {
    // Not waiting is the wait's first step alone: what it decides, asks and then reads is what the run reports.
    const step = await uploadStep(
      first,
      firstRetryState(start),
      { maxUploadRetries: settings.maxUploadRetries, pollIntervalMs: settings.pollIntervalMs },
      {
        clock: deps.clock,
        logger,
        read: () => readImage(client, image.id),
        retryUpload: failed => retryUpload(undefined, failed)
      }
    )
    if (step.kind === 'ended') return finish(step.end)
    report.image = step.read.image
    report.outcome = 'submitted'
    const now = step.retried ? 'being uploaded again' : String(step.read.image.status)
    logger.notice(
      `Not waiting (wait: false): image ${image.id} is ${now}; the upload goes on in the service.${uploadNewSource ? ' The result output stays empty: the upload of the new source was asked for, not seen to succeed.' : ''}`
    )
    return
  }

  const waited = await logger.group('Wait for the upload', () =>
    waitForImage(
      first,
      { pollIntervalMs: settings.pollIntervalMs, timeoutMs: settings.timeoutMs, maxUploadRetries: settings.maxUploadRetries },
      start,
      {
        clock: deps.clock,
        logger,
        signal: deps.signal,
        read: deadline => readDuringWait(client, image.id, deadline),
        retryUpload,
        onImage: img => void (report.image = img),
        onStatusChange: (status, errorCode) =>
          void report.timeline.push({
            at: deps.clock.now(),
            label: errorCode ? `${status} (${errorCode})` : status,
            kind: 'status'
          })
      }
    )
  )
  report.image = waited.image
  switch (waited.kind) {
    case 'timedOut':
      report.outcome = 'timedOut'
      throw new ActionError(
        'Timed out waiting for the image',
        waited.cause
          ? `Image ${waited.image.id} was still ${String(waited.image.status)} when the wait had to stop: ${waited.cause} The upload goes on in the service: run again with the same inputs to wait on it.`
          : `Image ${waited.image.id} was still ${String(waited.image.status)} after ${formatDuration(settings.timeoutMs)} (timeoutMinutes). The upload goes on in the service: run again with the same inputs to wait on it, or raise timeoutMinutes.`
      )
    default:
      return finish(waited)
  }
}

/** Warns about an image that is usable now but out of support or expiring soon. */
function noteImageHealth(report: RunReport, image: DeviceImage, deps: PublishDeps): void {
  for (const warning of imageHealthWarnings(image, deps.clock.now())) {
    report.imageWarnings.push(warning)
    deps.logger.warning(warning, { title: 'Check the image' })
  }
}

/** Ends the run on a failed upload, in words true now, with what support asks for. */
function fail(report: RunReport, settings: Settings, failed: FailedWait, newSource: boolean): never {
  report.outcome = 'failed'
  const { image, info, retriesUsed } = failed
  const ids = failed.ids
    ? ` [image ${image.id}; request-id: ${failed.ids.requestId ?? 'none'}; client-request-id: ${failed.ids.clientRequestId}]`
    : ` [image ${image.id}]`
  const code = `Image ${image.id} failed with ${info.code}: ${info.meaning}`
  let lead: string
  switch (failed.reason) {
    case 'retriesExhausted':
      lead =
        retriesUsed === 0
          ? `${code} No upload retry was asked for: maxUploadRetries is ${settings.maxUploadRetries}.`
          : `${code} The upload failed again after ${retriesUsed} retr${retriesUsed === 1 ? 'y' : 'ies'}, and no retries are left (maxUploadRetries: ${settings.maxUploadRetries}).`
      break
    case 'retryRefused':
      lead = newSource
        ? `The source of image ${image.id} was changed to ${settings.sourceImageResourceId}, but the service refused the upload retry (${failed.refusal?.message ?? 'no details'}). The new source was not uploaded: the image is still failed from its earlier upload (${info.code}). Set onExisting to replace (delete and create anew) or publish a new version.`
        : `The service refused the upload retry (${failed.refusal?.message ?? 'no details'}), and the image is still failed with ${info.code}: ${info.meaning}`
      break
    case 'retryNotSeen':
      lead = `The service accepted the upload retry, but image ${image.id} still showed the failure from before it (${info.code}) after the time a retry takes to show; no further retry was asked. Run the workflow again to wait on the image, or check it in the Intune admin center.`
      break
    case 'final':
      lead = code
  }
  // The remedy is for the source that failed: not for a retry never seen, nor for the old source of an update.
  const remedyApplies = failed.reason !== 'retryNotSeen' && !(newSource && failed.reason === 'retryRefused')
  const titles = {
    final: `Image upload failed: ${info.code}`,
    retriesExhausted: `Image upload failed: ${info.code}`,
    retryRefused: 'Upload retry refused',
    retryNotSeen: 'Upload retry not seen'
  }
  throw new UploadFailedError({
    title: titles[failed.reason],
    message: `${lead}${remedyApplies ? ` ${info.remedy}` : ''}${ids}`,
    errorCode: remedyApplies ? info : undefined
  })
}

/** The upload failed: the failure names the service's code, whose remedy the summary shows apart. */
export class UploadFailedError extends ActionError {
  constructor(private readonly reported: Failure) {
    super(reported.title, reported.message)
    this.name = 'UploadFailedError'
  }

  override get failure(): Failure {
    return this.reported
  }
}

interface Executed {
  /** The image as last seen: from the list, a write's answer, or a read with its IDs. */
  read: ImageRead
  result: PublishResult
  failedBeforeRun: boolean
  /** The image now names a new source that has yet to be uploaded. */
  uploadNewSource: boolean
}

async function execute(
  plan: Exclude<Plan, { kind: 'refuse' }>,
  room: Room | undefined,
  settings: Settings,
  all: DeviceImage[],
  report: RunReport,
  deps: PublishDeps
): Promise<Executed> {
  const { client, logger, clock } = deps
  const key: ImageKey = settings
  switch (plan.kind) {
    case 'reuse':
      report.timeline.push({ at: clock.now(), label: 'adopted', kind: 'action' })
      return { read: { image: plan.image }, result: 'reused', failedBeforeRun: plan.alreadyFailed, uploadNewSource: false }
    case 'update': {
      let read: ImageRead
      try {
        read = await updateImageSource(client, plan.image.id, key.sourceImageResourceId, logger)
      } catch (error) {
        if (isRefusal(error))
          throw new ActionError(
            'Image update refused',
            `The service refused to change the source of image ${plan.image.id}: ${error.message} The image is unchanged. Set onExisting to replace (delete and create anew) or publish a new version.`
          )
        throw error
      }
      logger.info(`Changed the source of image ${read.image.id} to ${key.sourceImageResourceId}; it has yet to be uploaded.`)
      report.timeline.push({ at: clock.now(), label: 'source changed', kind: 'action' })
      return { read, result: 'updated', failedBeforeRun: false, uploadNewSource: true }
    }
    case 'replace': {
      await deleteImage(client, plan.image.id, logger)
      logger.info(`Deleted image ${plan.image.id} to create it anew.`)
      report.timeline.push({ at: clock.now(), label: 'deleted', kind: 'action' })
      const created = await createOnce(key, all.length - 1, report, deps)
      return { read: { image: created }, result: 'replaced', failedBeforeRun: false, uploadNewSource: false }
    }
    case 'create': {
      let held = all.length
      if (room) {
        await makeRoom(room.images, room.decisions, held, settings, report, deps)
        held -= room.images.length
        report.timeline.push({ at: clock.now(), label: 'room made', kind: 'action' })
      }
      const created = await createOnce(key, held, report, deps)
      return { read: { image: created }, result: 'created', failedBeforeRun: false, uploadNewSource: false }
    }
  }
}

async function readDuringWait(client: GraphClient, id: string, deadline: number): Promise<ImageRead> {
  try {
    return await readImage(client, id, deadline)
  } catch (error) {
    if (isNotFound(error))
      throw new ActionError(
        'Image deleted',
        `Image ${id} no longer exists: it was deleted while this run waited for it (${error.details.code}, request-id ${error.details.requestId ?? 'none'}). Run the workflow again to create it anew.`
      )
    throw error
  }
}

/** Images to delete before the create, so the tenant has room for one more. */
interface Room {
  images: DeviceImage[]
  decisions: RetentionDecision[]
}

/**
 * Read-only checks that make a plan impossible, and the room a create needs in a full tenant; the
 * dry run runs them too.
 */
async function checkPlan(
  plan: Exclude<Plan, { kind: 'refuse' }>,
  all: DeviceImage[],
  client: GraphClient,
  settings: Settings
): Promise<Room | undefined> {
  if (plan.kind === 'replace') {
    const users = (await listPolicies(client)).filter(policy => usesImage(policy, plan.image.id))
    if (users.length > 0)
      throw new ActionError(
        'Image in use',
        `Image ${plan.image.id} cannot be replaced: provisioning policies use it (${users.map(p => `"${p.displayName ?? ''}" ${p.id}`).join(', ')}). Point them at another image first, or publish a new version.`
      )
  }
  if (plan.kind !== 'create' || all.length < IMAGE_LIMIT) return undefined
  const policies = await listPolicies(client)
  const room = planRoom({ images: all, policies, ...settings })
  if (room.kind === 'delete') return room
  if (room.kind === 'full')
    throw new ActionError('Tenant image limit reached', tenantFullMessage(all, policies, { ...settings, ...room }))
  return undefined
}

/** `held` is how many images the tenant holds before the create, for an error the action cannot name. */
async function createOnce(key: ImageKey, held: number, report: RunReport, deps: PublishDeps): Promise<DeviceImage> {
  let outcome: CreateOutcome
  try {
    outcome = await createImage(deps.client, key, deps.logger)
  } catch (error) {
    if (!isRefusal(error)) throw error
    const gallery = isGallerySource(key.sourceImageResourceId)
      ? ' Azure Compute Gallery sources are in preview in Windows 365: if the service does not take them in this tenant yet, capture the image as a managed image.'
      : ''
    throw new ActionError(
      'Image create refused',
      `${error.message} The tenant holds ${held} of the ${IMAGE_LIMIT} custom images Windows 365 allows.${gallery}`
    )
  }
  if (outcome.kind === 'conflict')
    throw new ActionError(
      'Image already exists',
      `The service answered that image "${key.displayName}" version ${key.version} already exists; another run may be publishing it at the same time. Serialize runs with a workflow concurrency group. ${outcome.error.message}`
    )
  deps.logger.info(
    `${outcome.kind === 'created' ? 'Created' : 'Adopted'} image ${outcome.image.id} (${String(outcome.image.status)}).`
  )
  report.timeline.push({ at: deps.clock.now(), label: 'created', kind: 'action' })
  return outcome.image
}

function describePlan(plan: Exclude<Plan, { kind: 'refuse' }>, settings: Settings): string {
  const name = `"${settings.displayName}" version ${settings.version}`
  switch (plan.kind) {
    case 'create':
      return `No image ${name} exists: create it from ${settings.sourceImageResourceId}.`
    case 'reuse':
      return `Image ${name} exists (${plan.image.id}, ${String(plan.image.status)}) with the same source: reuse it${plan.alreadyFailed ? ' and retry its failed upload' : ''}.`
    case 'update':
      return `Image ${name} exists (${plan.image.id}, failed) with the source ${plan.image.sourceImageResourceId}: change its source to ${settings.sourceImageResourceId} and ask the service to upload it.`
    case 'replace':
      return `Image ${name} exists (${plan.image.id}): delete it and create it anew from ${settings.sourceImageResourceId}.`
  }
}
