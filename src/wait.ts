// Waits for the service to finish uploading and validating the image: temporary states keep the
// loop going, final states end it, a retryable failure asks the service to upload again.

import type { Clock } from './clock.js'
import { DeadlineError, messageOf } from './errors.js'
import { type ErrorCodeInfo, explainErrorCode, isRetryableErrorCode } from './error-codes.js'
import { type DeviceImage, parseImageStatus } from './graph-types.js'
import type { Logger } from './logger.js'

export type WaitStep =
  | { kind: 'ready' }
  | { kind: 'warning' }
  | { kind: 'retry' }
  | { kind: 'failed'; info: ErrorCodeInfo; retriesExhausted: boolean }
  | { kind: 'pending'; unrecognised?: string }

/**
 * What to do with the image as last read. `forceRetry` is set for an image that had already failed
 * before this run: it is retried once whatever its code, since the source may have been fixed in place.
 */
export function decideStep(
  image: Pick<DeviceImage, 'status' | 'errorCode'>,
  retriesUsed: number,
  maxRetries: number,
  forceRetry = false
): WaitStep {
  const status = parseImageStatus(image.status)
  switch (status) {
    case 'ready':
      return { kind: 'ready' }
    case 'warning':
      return { kind: 'warning' }
    case 'failed': {
      const info = explainErrorCode(image.errorCode)
      const worthIt = forceRetry || isRetryableErrorCode(image.errorCode)
      if (worthIt && retriesUsed < maxRetries) return { kind: 'retry' }
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

export type WaitResult =
  | { kind: 'ready' | 'warning'; image: DeviceImage }
  | { kind: 'failed'; image: DeviceImage; info: ErrorCodeInfo; retriesExhausted: boolean }
  | { kind: 'timedOut'; image: DeviceImage }
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
  read(deadline: number): Promise<DeviceImage>
  /** Asks the service to upload again; returns the route that took the request. */
  retryUpload(deadline: number): Promise<string>
  /** Called with every image read, and with each change of status for the timeline. */
  onImage(image: DeviceImage): void
  onStatusChange(status: string, errorCode: string | null): void
}

export interface WaitState {
  retriesUsed: number
  /** The image had failed before this run began. */
  failedBeforeRun: boolean
}

const DEFAULT_HEARTBEAT_MS = 5 * 60_000

export async function waitForImage(
  initial: DeviceImage,
  options: WaitOptions,
  state: WaitState,
  deps: WaitDeps
): Promise<WaitResult> {
  const { clock, logger } = deps
  const started = clock.now()
  const deadline = started + options.timeoutMs
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  let forceRetry = state.failedBeforeRun
  let image = initial
  let lastStatus: string | undefined
  let lastLine = started

  const elapsed = (): string => formatDuration(clock.now() - started)
  for (;;) {
    deps.onImage(image)
    const status = image.status === null || image.status === undefined ? 'without a status' : String(image.status)
    if (status !== lastStatus) {
      logger.info(`Image ${image.id} is ${status}${image.errorCode ? ` (${image.errorCode})` : ''} after ${elapsed()}.`)
      deps.onStatusChange(status, image.errorCode)
      lastStatus = status
      lastLine = clock.now()
    }
    const step = decideStep(image, state.retriesUsed, options.maxUploadRetries, forceRetry)
    switch (step.kind) {
      case 'ready':
      case 'warning':
        return { kind: step.kind, image }
      case 'failed':
        return { kind: 'failed', image, info: step.info, retriesExhausted: step.retriesExhausted }
      case 'retry': {
        const route = await deps.retryUpload(deadline)
        state.retriesUsed++
        forceRetry = false
        logger.info(
          `Asked the service to retry the upload with ${route} (retry ${state.retriesUsed} of ${options.maxUploadRetries}).`
        )
        lastStatus = undefined
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
    try {
      image = await deps.read(deadline)
    } catch (error) {
      // A read the service cannot answer before the deadline (throttled, down) ends in a time-out,
      // but only at the deadline: the image may still become ready and be seen by a later run.
      if (!(error instanceof DeadlineError) && clock.now() < deadline) throw error
      logger.info(`Status reads fail until the deadline: ${messageOf(error)}`)
      await clock.sleep(deadline - clock.now(), deps.signal)
      return { kind: deps.signal?.aborted ? 'cancelled' : 'timedOut', image }
    }
  }
}

export function formatDuration(ms: number): string {
  const totalSeconds = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(totalSeconds / 3600)
  const m = Math.floor((totalSeconds % 3600) / 60)
  const s = totalSeconds % 60
  if (h > 0) return `${h}h ${m}m`
  if (m > 0) return `${m}m ${s}s`
  if (ms < 1000) return `${(ms / 1000).toFixed(1)}s`
  return `${s}s`
}
