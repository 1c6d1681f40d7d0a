// Waits for the service to finish uploading and validating the image: temporary states keep the
// loop going, final states end it, a retryable failure asks the service to upload again.

import type { Clock } from '../core/clock.js'
import { formatDuration } from '../core/duration.js'
import { DeadlineError, isRefusal, type ServiceError } from '../core/errors.js'
import { type ErrorCodeInfo, explainErrorCode, isRetryableErrorCode } from './error-codes.js'
import type { RequestIds } from '../graph/graph-client.js'
import { type DeviceImage, parseImageStatus } from '../graph/graph-types.js'
import type { ImageRead } from '../graph/images.js'
import { isStaleFailure, staleGraceMs } from '../graph/read-lag.js'
import type { Logger } from '../core/logger.js'

export type WaitStep =
  | { kind: 'ready' }
  | { kind: 'warning' }
  | { kind: 'retry' }
  | { kind: 'failed'; info: ErrorCodeInfo; retriesExhausted: boolean }
  | { kind: 'pending'; unrecognised?: string }
  /** Still the failure from before the last retry: the service has not picked the retry up yet. */
  | { kind: 'stale' }
  /** The grace for picking the retry up is over, and the image still shows the failure from before it. */
  | { kind: 'retryNotSeen'; info: ErrorCodeInfo }

/** A retry asked for whose effect no read has shown yet. */
export interface RetryInFlight {
  /** `lastModifiedDateTime` of the failed image the retry was asked for. */
  baseline: string | null | undefined
  /** Until then a read that still shows the old failure is taken as stale. */
  graceUntil: number
}

export interface StepContext {
  retriesUsed: number
  maxRetries: number
  /** Retry once whatever the code: the image had failed before this run, and its source may have been fixed in place. */
  forceRetry?: boolean
  /** Retry whatever the code and the count: the upload of a new source after an update. */
  freeRetry?: boolean
  inFlight?: RetryInFlight
  now: number
}

/** What to do with the image as last read. */
export function decideStep(
  image: Pick<DeviceImage, 'status' | 'errorCode' | 'lastModifiedDateTime'>,
  ctx: StepContext
): WaitStep {
  const status = parseImageStatus(image.status)
  switch (status) {
    case 'ready':
      return { kind: 'ready' }
    case 'warning':
      return { kind: 'warning' }
    case 'failed': {
      const info = explainErrorCode(image.errorCode)
      if (ctx.inFlight && isStaleFailure(image, ctx.inFlight.baseline))
        return ctx.now < ctx.inFlight.graceUntil ? { kind: 'stale' } : { kind: 'retryNotSeen', info }
      if (ctx.freeRetry) return { kind: 'retry' }
      const worthIt = ctx.forceRetry || isRetryableErrorCode(image.errorCode)
      if (worthIt && ctx.retriesUsed < ctx.maxRetries) return { kind: 'retry' }
      return { kind: 'failed', info, retriesExhausted: worthIt }
    }
    case 'pending':
      return { kind: 'pending' }
    case 'unknownFutureValue':
    case 'unrecognised':
      // A status added after this version: the image is not known to be ready, so keep waiting.
      return { kind: 'pending', unrecognised: String(image.status) }
  }
}

export type FailedWait = {
  kind: 'failed'
  image: DeviceImage
  info: ErrorCodeInfo
  /** The identifiers of the read that saw the failure. */
  ids?: RequestIds
  /** Why the wait ended on this failure. */
  reason: 'final' | 'retriesExhausted' | 'retryRefused' | 'retryNotSeen'
  refusal?: ServiceError
}

export type WaitResult =
  | { kind: 'ready' | 'warning'; image: DeviceImage }
  | FailedWait
  /** `cause`: why the wait could not go on to the deadline (requests failing or throttled until it). */
  | { kind: 'timedOut'; image: DeviceImage; cause?: string }
  | { kind: 'cancelled'; image: DeviceImage }

export interface WaitOptions {
  pollIntervalMs: number
  timeoutMs: number
  maxUploadRetries: number
  heartbeatMs?: number
}

export interface WaitDeps {
  clock: Clock
  logger: Logger
  signal?: AbortSignal
  read(deadline: number): Promise<ImageRead>
  /** Asks the service to upload the image again; returns the route that took the request. */
  retryUpload(deadline: number, image: DeviceImage): Promise<string>
  /** Called with every image read, and with each change of status for the timeline. */
  onImage(image: DeviceImage): void
  onStatusChange(status: string, errorCode: string | null): void
}

export interface WaitState {
  retriesUsed: number
  /** The image had failed before this run began. */
  failedBeforeRun: boolean
  /** The first retry uploads a new source (onExisting: update): it is asked whatever the code and does not count. */
  uploadNewSource?: boolean
}

const DEFAULT_HEARTBEAT_MS = 5 * 60_000

export async function waitForImage(
  initial: ImageRead,
  options: WaitOptions,
  state: WaitState,
  deps: WaitDeps
): Promise<WaitResult> {
  const { clock, logger } = deps
  const started = clock.now()
  const deadline = started + options.timeoutMs
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  let forceRetry = state.failedBeforeRun
  let freeRetry = state.uploadNewSource ?? false
  let inFlight: RetryInFlight | undefined
  let staleNoted = false
  let read = initial
  let lastStatus: string | undefined
  let lastLine = started

  const elapsed = (): string => formatDuration(clock.now() - started)
  // Reads are retried until the deadline, so an outage that ends before it is ridden out. One that
  // lasts (or a throttle that would end past it) ends the wait as a time-out, never as a failure of
  // the image: the upload may still succeed and be seen by a later run.
  const readUntil = async (until: number): Promise<ImageRead | DeadlineError> => {
    try {
      return await deps.read(until)
    } catch (error) {
      if (error instanceof DeadlineError) return error
      throw error
    }
  }
  // The time-out's error quotes the cause, so the log does not say it first.
  const timedOut = (image: DeviceImage, cause: DeadlineError): WaitResult => ({ kind: 'timedOut', image, cause: cause.message })
  for (;;) {
    const image = read.image
    deps.onImage(image)
    const status = image.status === null || image.status === undefined ? 'without a status' : String(image.status)
    const step = decideStep(image, {
      retriesUsed: state.retriesUsed,
      maxRetries: options.maxUploadRetries,
      forceRetry,
      freeRetry,
      inFlight,
      now: clock.now()
    })
    if (step.kind !== 'stale') inFlight = undefined
    if (status !== lastStatus && step.kind !== 'stale') {
      // "is ready", "is pending", but "failed": the image did not come to be "failed".
      const seen = parseImageStatus(image.status) === 'failed' ? 'failed' : `is ${status}`
      logger.info(`Image ${image.id} ${seen}${image.errorCode ? ` (${image.errorCode})` : ''} after ${elapsed()}.`)
      deps.onStatusChange(status, image.errorCode)
      lastStatus = status
      lastLine = clock.now()
    }
    switch (step.kind) {
      case 'ready':
      case 'warning':
        return { kind: step.kind, image }
      case 'failed':
        return {
          kind: 'failed',
          image,
          info: step.info,
          ids: read.ids,
          reason: step.retriesExhausted ? 'retriesExhausted' : 'final'
        }
      case 'retryNotSeen':
        return { kind: 'failed', image, info: step.info, ids: read.ids, reason: 'retryNotSeen' }
      case 'stale':
        if (!staleNoted)
          logger.info(
            `The service still shows the failure from before the retry; waiting up to ${formatDuration(inFlight!.graceUntil - clock.now())} for it to pick the retry up.`
          )
        staleNoted = true
        break
      case 'retry': {
        const newSource = freeRetry
        let route: string
        try {
          route = await deps.retryUpload(deadline, image)
        } catch (error) {
          if (error instanceof DeadlineError) return timedOut(image, error)
          if (!isRefusal(error)) throw error
          // Refused: an upload may already be running (pending), or the image cannot be retried (still failed).
          forceRetry = freeRetry = false
          const after = await readUntil(deadline)
          if (after instanceof DeadlineError) return timedOut(image, after)
          read = after
          if (parseImageStatus(read.image.status) !== 'failed') {
            logger.info(
              `The service refused the retry (${error.details.code}) and the image is ${String(read.image.status)}: an upload is already under way; waiting on.`
            )
            continue
          }
          deps.onImage(read.image)
          return {
            kind: 'failed',
            image: read.image,
            info: explainErrorCode(read.image.errorCode),
            ids: read.ids,
            reason: 'retryRefused',
            refusal: error
          }
        }
        if (!newSource) state.retriesUsed++
        forceRetry = freeRetry = false
        inFlight = { baseline: image.lastModifiedDateTime, graceUntil: clock.now() + staleGraceMs(options.pollIntervalMs) }
        staleNoted = false
        logger.info(
          newSource
            ? `Asked the service to upload the new source with ${route}.`
            : `Asked the service to retry the upload with ${route} (retry ${state.retriesUsed} of ${options.maxUploadRetries}).`
        )
        break
      }
      case 'pending':
        if (step.unrecognised) logger.debug(`Status "${step.unrecognised}" is not known to this action; waiting on.`)
        break
    }
    const now = clock.now()
    if (now >= deadline) return { kind: 'timedOut', image }
    if (now - lastLine >= heartbeatMs) {
      logger.info(`Still ${status} after ${elapsed()}; ${formatDuration(deadline - now)} left before the time-out.`)
      lastLine = now
    }
    await clock.sleep(Math.min(options.pollIntervalMs, deadline - now), deps.signal)
    if (deps.signal?.aborted) return { kind: 'cancelled', image }
    const next = await readUntil(deadline)
    if (next instanceof DeadlineError) return timedOut(image, next)
    read = next
  }
}
