// Publishes the image: find what exists, decide, create/adopt/update/replace, then wait.
// Everything learned goes into the report as soon as it is known.

import type { Clock } from './clock.js'
import type { ErrorCodeInfo } from './error-codes.js'
import { ActionError, CancelledError, GraphError } from './errors.js'
import type { GraphClient } from './graph-client.js'
import { type DeviceImage, parseImageStatus } from './graph-types.js'
import {
  createImage,
  deleteImage,
  getImage,
  IMAGE_LIMIT,
  isSameImage,
  listImages,
  listPolicies,
  requestUploadRetry,
  updateImageSource,
  usesImage
} from './images.js'
import type { Settings } from './inputs.js'
import type { Logger } from './logger.js'
import { type Plan, planImage, tenantFullMessage } from './plan.js'
import type { PublishResult, RunReport } from './report.js'
import { decideStep, formatDuration, waitForImage } from './wait.js'

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
    const described = describePlan(decided, settings)
    logger.info(described)
    if (decided.kind !== 'create') report.image = decided.image
    if (decided.kind === 'refuse') throw new ActionError(decided.title, decided.message)
    await checkPlan(decided, all, client)
    if (settings.dryRun) report.plan.push(described)
    return decided
  })

  if (settings.dryRun) {
    report.result = 'planned'
    report.outcome = 'planned'
    return
  }

  const { image, result, failedBeforeRun, retryFirst } = await logger.group('Publish the image', () =>
    execute(plan, key, report, deps)
  )
  report.image = image
  report.result = result
  const retryUpload = async (deadline?: number): Promise<string> => {
    const route = await requestUploadRetry(client, image.id, deadline)
    report.uploadRetries++
    report.timeline.push({ at: deps.clock.now(), label: `retry ${report.uploadRetries}`, kind: 'action' })
    return route
  }

  let current = image
  if (retryFirst) {
    // A new source needs a new upload. This retry belongs to the update and does not use up maxUploadRetries.
    try {
      logger.info(`Asked the service to upload the new source with ${await retryUpload()}.`)
    } catch (error) {
      if (!(error instanceof GraphError) || error.status >= 500) throw error
      logger.info(`The service did not take an upload retry (${error.details.code}); waiting on the image as it is.`)
    }
    current = await getImage(client, image.id)
    report.image = current
  }

  if (!settings.wait) {
    const step = decideStep(current, 0, settings.maxUploadRetries, failedBeforeRun)
    if (step.kind === 'failed') fail(report, settings, current, step.info, step.retriesExhausted, 0)
    if (step.kind === 'retry') {
      logger.info(`Asked the service to retry the upload with ${await retryUpload()}.`)
      current = await getImage(client, image.id)
      report.image = current
    }
    const status = parseImageStatus(current.status)
    report.outcome = status === 'ready' ? 'ready' : status === 'warning' ? 'warning' : 'submitted'
    if (report.outcome === 'submitted')
      logger.notice(
        `Not waiting (wait: false): image ${image.id} is ${String(current.status)}; the upload goes on in the service.`
      )
    return
  }

  const state = { retriesUsed: 0, failedBeforeRun }
  const waited = await logger.group('Wait for the upload', () =>
    waitForImage(
      current,
      { pollIntervalMs: settings.pollIntervalMs, timeoutMs: settings.timeoutMs, maxUploadRetries: settings.maxUploadRetries },
      state,
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
    case 'ready':
      report.outcome = 'ready'
      logger.info(`Image ${waited.image.id} is ready.`)
      return
    case 'warning':
      report.outcome = 'warning'
      logger.warning(
        `Image ${waited.image.id} finished with status warning: it can be used, but check it in the Intune admin center (Devices > Windows 365 > Custom images).`,
        { title: 'Image ready with a warning' }
      )
      return
    case 'cancelled':
      throw new CancelledError()
    case 'timedOut':
      report.outcome = 'timedOut'
      throw new ActionError(
        'Timed out waiting for the image',
        `Image ${waited.image.id} was still ${String(waited.image.status)} after ${formatDuration(settings.timeoutMs)} (timeoutMinutes). The upload goes on in the service: run again with the same inputs to wait on it, or raise timeoutMinutes.`
      )
    case 'failed':
      fail(report, settings, waited.image, waited.info, waited.retriesExhausted, state.retriesUsed)
  }
}

function fail(
  report: RunReport,
  settings: Settings,
  image: DeviceImage,
  info: ErrorCodeInfo,
  retriesExhausted: boolean,
  retriesUsed: number
): never {
  report.outcome = 'failed'
  const exhausted = retriesExhausted
    ? `The upload failed again after ${retriesUsed} retr${retriesUsed === 1 ? 'y' : 'ies'} (maxUploadRetries: ${settings.maxUploadRetries}). `
    : ''
  report.failure = {
    title: `Image upload failed: ${info.code}`,
    message: `${exhausted}Image ${image.id} failed with ${info.code}: ${info.meaning} ${info.remedy}`,
    errorCode: info
  }
  throw new ActionError(report.failure.title, report.failure.message)
}

interface Executed {
  image: DeviceImage
  result: PublishResult
  failedBeforeRun: boolean
  retryFirst: boolean
}

async function execute(
  plan: Exclude<Plan, { kind: 'refuse' }>,
  key: ImageKey,
  report: RunReport,
  deps: PublishDeps
): Promise<Executed> {
  const { client, logger, clock } = deps
  switch (plan.kind) {
    case 'reuse':
      report.timeline.push({ at: clock.now(), label: 'adopted', kind: 'action' })
      return { image: plan.image, result: 'reused', failedBeforeRun: plan.alreadyFailed, retryFirst: false }
    case 'update': {
      let image: DeviceImage
      try {
        image = await updateImageSource(client, plan.image.id, key.sourceImageResourceId)
      } catch (error) {
        if (error instanceof GraphError && error.status < 500)
          throw new ActionError(
            'Image update refused',
            `The service refused to change the source of image ${plan.image.id}: ${error.message} Set onExisting to replace (delete and create anew) or publish a new version.`
          )
        throw error
      }
      logger.info(`Updated the source of image ${image.id} to ${key.sourceImageResourceId}.`)
      report.timeline.push({ at: clock.now(), label: 'updated', kind: 'action' })
      return { image, result: 'updated', failedBeforeRun: false, retryFirst: true }
    }
    case 'replace': {
      await deleteImage(client, plan.image.id)
      logger.info(`Deleted image ${plan.image.id} to create it anew.`)
      report.timeline.push({ at: clock.now(), label: 'deleted', kind: 'action' })
      const created = await createOnce(key, report, deps)
      return { image: created, result: 'replaced', failedBeforeRun: false, retryFirst: false }
    }
    case 'create': {
      const created = await createOnce(key, report, deps)
      return { image: created, result: 'created', failedBeforeRun: false, retryFirst: false }
    }
  }
}

async function readDuringWait(client: GraphClient, id: string, deadline: number): Promise<DeviceImage> {
  try {
    return await getImage(client, id, deadline)
  } catch (error) {
    if (error instanceof GraphError && error.status === 404)
      throw new ActionError(
        'Image deleted',
        `Image ${id} no longer exists: it was deleted while this run waited for it (${error.details.code}, request-id ${error.details.requestId ?? 'none'}). Run the workflow again to create it anew.`
      )
    throw error
  }
}

/** Read-only checks that make a plan impossible; the dry run runs them too. */
async function checkPlan(plan: Exclude<Plan, { kind: 'refuse' }>, all: DeviceImage[], client: GraphClient): Promise<void> {
  if (plan.kind === 'replace') {
    const users = (await listPolicies(client)).filter(policy => usesImage(policy, plan.image.id))
    if (users.length > 0)
      throw new ActionError(
        'Image in use',
        `Image ${plan.image.id} cannot be replaced: provisioning policies use it (${users.map(p => `"${p.displayName ?? ''}" ${p.id}`).join(', ')}). Point them at another image first, or publish a new version.`
      )
  }
  if (plan.kind === 'create' && all.length >= IMAGE_LIMIT)
    throw new ActionError('Tenant image limit reached', tenantFullMessage(all, await listPolicies(client)))
}

async function createOnce(key: ImageKey, report: RunReport, deps: PublishDeps): Promise<DeviceImage> {
  const outcome = await createImage(deps.client, key, deps.logger)
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

function describePlan(plan: Plan, settings: Settings): string {
  const name = `"${settings.displayName}" version ${settings.version}`
  switch (plan.kind) {
    case 'create':
      return `No image ${name} exists: create it from ${settings.sourceImageResourceId}.`
    case 'reuse':
      return `Image ${name} exists (${plan.image.id}, ${String(plan.image.status)}) with the same source: reuse it${plan.alreadyFailed ? ' and retry its failed upload' : ''}.`
    case 'update':
      return `Image ${name} exists (${plan.image.id}) with the source ${plan.image.sourceImageResourceId}: change its source to ${settings.sourceImageResourceId} and upload again.`
    case 'replace':
      return `Image ${name} exists (${plan.image.id}): delete it and create it anew from ${settings.sourceImageResourceId}.`
    case 'refuse':
      return plan.message
  }
}
