// How long Graph reads may lag behind a write: nothing documents how soon a read shows an upload
// retry or a reprovision, so the action allows for a lag and compares only the service's own
// timestamps. Pure: values in, a verdict out.

import { type DeviceImage, parseImageStatus } from './model.js'

/**
 * A failed read that is not later than the failure a retry was asked for shows the state from before
 * the retry. Only the service's own timestamps are compared: the runner's clock may differ. A read
 * without a timestamp cannot show that it is newer, so it counts as stale too.
 */
export function isStaleFailure(
  image: Pick<DeviceImage, 'status' | 'lastModifiedDateTime'>,
  baseline: string | null | undefined
): boolean {
  if (parseImageStatus(image.status) !== 'failed') return false
  return !(Date.parse(image.lastModifiedDateTime ?? '') > Date.parse(baseline ?? ''))
}

/** Nothing documents how soon a read shows a retry; this long a read may still show the failure from before it. */
const STALE_GRACE_MIN_MS = 5 * 60_000
const STALE_GRACE_POLLS = 5

export function staleGraceMs(pollIntervalMs: number): number {
  return Math.max(STALE_GRACE_MIN_MS, STALE_GRACE_POLLS * pollIntervalMs)
}
