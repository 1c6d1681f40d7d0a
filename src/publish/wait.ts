// Waits for the service to finish uploading and validating the image: temporary states keep the
// loop going, final states end it, a retryable failure asks the service to upload again. One step
// (decide → retry → refused → read → decide) serves both wait settings: `wait: false` is that step
// taken once.

import type { Clock } from '../core/clock.js'
import { formatDuration } from '../core/duration.js'
import { isRefusal, type ServiceError } from '../core/errors.js'
import { pollUntil } from '../core/poll.js'
import { type ErrorCodeInfo, explainErrorCode, isRetryableErrorCode } from './error-codes.js'
import type { RequestIds } from '../graph/client.js'
import { type DeviceImage, parseImageStatus } from '../graph/model.js'
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
  /** Retries asked for that counted against maxUploadRetries, for the failure's words. */
  retriesUsed: number
}

/** The upload ended: ready, warning, or failed and why. */
export type UploadEnd = { kind: 'ready' | 'warning'; image: DeviceImage } | FailedWait

export type WaitResult =
  | UploadEnd
  /** `cause`: why the wait could not go on to the deadline (requests failing or throttled until it). */
  | { kind: 'timedOut'; image: DeviceImage; cause?: string }

/** What the run brings to the first step. */
export interface RetryStart {
  /** The image had failed before this run began. */
  failedBeforeRun: boolean
  /** The first retry uploads a new source (onExisting: update): it is asked whatever the code and does not count. */
  uploadNewSource?: boolean
}

/** What one step hands the next; each step returns a new one. */
export interface RetryState {
  retriesUsed: number
  forceRetry: boolean
  freeRetry: boolean
  /** `noted` once the log has said the reads still show the failure from before the retry. */
  inFlight?: RetryInFlight & { noted: boolean }
}

export function firstRetryState(start: RetryStart): RetryState {
  return { retriesUsed: 0, forceRetry: start.failedBeforeRun, freeRetry: start.uploadNewSource ?? false }
}

export interface StepOptions {
  maxUploadRetries: number
  /** How often the wait reads: a retry is given a few intervals to show (staleGraceMs). */
  pollIntervalMs: number
}

export interface StepDeps {
  clock: Clock
  logger: Logger
  /** Reads the image again, after a refused retry. */
  read(): Promise<ImageRead>
  /** Asks the service to upload the image again; returns the route that took the request. */
  retryUpload(image: DeviceImage): Promise<string>
  /**
   * Called with every image read, before anything is done about it; `stale` when it still shows
   * the failure from before the retry, and so says nothing new.
   */
  onSeen?(read: ImageRead, stale: boolean): void
}

export type StepResult =
  | { kind: 'ended'; end: UploadEnd }
  /**
   * The upload is under way: pending, a retry just asked for (`retried`), a retry refused because
   * an upload already runs, or a read that still shows the failure from before the retry. `read`
   * is the image as last read.
   */
  | { kind: 'going'; read: ImageRead; state: RetryState; retried: boolean; unrecognised?: string }

/**
 * One step of the upload: decides what the image as read needs, asks for a retry when it is due,
 * and when the service refuses it reads the image again and decides on that. Requests end in
 * whatever error they end in (a DeadlineError too): the wait knows what a time-out means, `wait:
 * false` does not need to.
 */
export async function uploadStep(read: ImageRead, state: RetryState, options: StepOptions, deps: StepDeps): Promise<StepResult> {
  const { image } = read
  const step = decideStep(image, {
    retriesUsed: state.retriesUsed,
    maxRetries: options.maxUploadRetries,
    forceRetry: state.forceRetry,
    freeRetry: state.freeRetry,
    inFlight: state.inFlight,
    now: deps.clock.now()
  })
  deps.onSeen?.(read, step.kind === 'stale')
  const ended = (end: UploadEnd): StepResult => ({ kind: 'ended', end })
  const failed = (reason: FailedWait['reason'], info: ErrorCodeInfo): StepResult =>
    ended({ kind: 'failed', image, info, ids: read.ids, reason, retriesUsed: state.retriesUsed })
  // Any read but one that still shows the failure from before the retry shows the retry picked up.
  const seen: RetryState = { ...state, inFlight: undefined }
  switch (step.kind) {
    case 'ready':
    case 'warning':
      return ended({ kind: step.kind, image })
    case 'failed':
      return failed(step.retriesExhausted ? 'retriesExhausted' : 'final', step.info)
    case 'retryNotSeen':
      return failed('retryNotSeen', step.info)
    case 'stale': {
      const inFlight = state.inFlight!
      if (!inFlight.noted)
        deps.logger.info(
          `The service still shows the failure from before the retry; waiting up to ${formatDuration(inFlight.graceUntil - deps.clock.now())} for it to pick the retry up.`
        )
      return { kind: 'going', read, state: { ...state, inFlight: { ...inFlight, noted: true } }, retried: false }
    }
    case 'pending':
      return { kind: 'going', read, state: seen, retried: false, unrecognised: step.unrecognised }
    case 'retry':
      return retryStep(read, seen, options, deps)
  }
}

async function retryStep(read: ImageRead, state: RetryState, options: StepOptions, deps: StepDeps): Promise<StepResult> {
  const { image } = read
  const newSource = state.freeRetry
  // Asked, whatever the answer: the retry owed to a failure from before the run, or to a new source, is spent.
  const asked: RetryState = { ...state, forceRetry: false, freeRetry: false }
  let route: string
  try {
    route = await deps.retryUpload(image)
  } catch (error) {
    if (!isRefusal(error)) throw error
    // Refused: an upload may already be running (pending), or the image cannot be retried (still failed).
    const after = await deps.read()
    if (parseImageStatus(after.image.status) === 'failed') {
      deps.onSeen?.(after, false)
      return {
        kind: 'ended',
        end: {
          kind: 'failed',
          image: after.image,
          info: explainErrorCode(after.image.errorCode),
          ids: after.ids,
          reason: 'retryRefused',
          refusal: error,
          retriesUsed: state.retriesUsed
        }
      }
    }
    deps.logger.info(
      `The service refused the retry (${error.details.code}) and the image is ${String(after.image.status)}: an upload is already under way.`
    )
    // Not failed, so this decision asks for no second retry.
    return uploadStep(after, asked, options, deps)
  }
  const retriesUsed = newSource ? state.retriesUsed : state.retriesUsed + 1
  deps.logger.info(
    newSource
      ? `Asked the service to upload the new source with ${route}.`
      : `Asked the service to retry the upload with ${route} (retry ${retriesUsed} of ${options.maxUploadRetries}).`
  )
  const inFlight = {
    baseline: image.lastModifiedDateTime,
    graceUntil: deps.clock.now() + staleGraceMs(options.pollIntervalMs),
    noted: false
  }
  return { kind: 'going', read, state: { ...asked, retriesUsed, inFlight }, retried: true }
}

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

/** Takes upload steps, one per poll interval, until the upload ends, the deadline passes or the run is cancelled. */
export async function waitForImage(
  initial: ImageRead,
  options: WaitOptions,
  start: RetryStart,
  deps: WaitDeps
): Promise<WaitResult> {
  const { clock, logger } = deps
  const started = clock.now()
  const deadline = started + options.timeoutMs
  let state = firstRetryState(start)
  let read = initial
  let lastStatus: string | undefined
  let lastLine = started

  const elapsed = (): string => formatDuration(clock.now() - started)
  const statusOf = (image: DeviceImage): string =>
    image.status === null || image.status === undefined ? 'without a status' : String(image.status)
  const stepDeps: StepDeps = {
    clock,
    logger,
    read: () => deps.read(deadline),
    retryUpload: image => deps.retryUpload(deadline, image),
    onSeen: ({ image }, stale) => {
      deps.onImage(image)
      const status = statusOf(image)
      if (status === lastStatus || stale) return
      // "is ready", "is pending", but "failed": the image did not come to be "failed".
      const seen = parseImageStatus(image.status) === 'failed' ? 'failed' : `is ${status}`
      logger.info(`Image ${image.id} ${seen}${image.errorCode ? ` (${image.errorCode})` : ''} after ${elapsed()}.`)
      deps.onStatusChange(status, image.errorCode)
      lastStatus = status
      lastLine = clock.now()
    }
  }
  // Requests are retried until the deadline, so an outage that ends before it is ridden out. One
  // that lasts (or a throttle that would end past it) ends the wait as a time-out, never as a
  // failure of the image: the upload may still succeed and be seen by a later run. The time-out's
  // error quotes the cause, so the log does not say it first.
  // A cancellation travels as the CancelledError pollUntil throws; the image as last seen is already
  // with the caller (onImage).
  const end = await pollUntil<WaitResult>({
    clock,
    signal: deps.signal,
    deadline,
    intervalMs: options.pollIntervalMs,
    heartbeatMs: options.heartbeatMs,
    lastLineAt: () => lastLine,
    check: async () => {
      const step: StepResult = await uploadStep(read, state, options, stepDeps)
      if (step.kind === 'ended') return step.end
      read = step.read
      state = step.state
      if (step.unrecognised) logger.debug(`Status "${step.unrecognised}" is not known to this action; waiting on.`)
      return undefined
    },
    read: async until => void (read = await deps.read(until)),
    heartbeat: now => {
      logger.info(`Still ${statusOf(read.image)} after ${elapsed()}; ${formatDuration(deadline - now)} left before the time-out.`)
      lastLine = now
    }
  })
  if (end.kind === 'done') return end.value
  return end.cause ? { kind: 'timedOut', image: read.image, cause: end.cause.message } : { kind: 'timedOut', image: read.image }
}
