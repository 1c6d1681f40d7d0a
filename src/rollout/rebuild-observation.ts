// What a read of a Cloud PC says about the reprovision this run asked for. The service's own
// timestamps are compared with each other (the Cloud PC as read before the request against the
// Cloud PC now), never with the runner's clock, and a read that still shows the state from before
// the request shows nothing: reads may lag behind the service (docs/graph-facts.md#read-lag).

import { type CloudPc, parseCloudPcStatus, type RemoteActionResult } from '../graph/model.js'

export type Rebuild =
  /** No sign yet that the rebuild began. */
  { kind: 'notSeen' } | { kind: 'running' } | { kind: 'done' } | { kind: 'failed'; detail: string }

const isReprovision = (action: RemoteActionResult | null | undefined): boolean =>
  String(action?.actionName ?? '').toLowerCase() === 'reprovision'

/**
 * The Cloud PC's last remote action is a reprovision that started after the one seen before the
 * request (any reprovision, when none was seen before).
 */
export function reprovisionStarted(before: RemoteActionResult | null | undefined, after: CloudPc | undefined): boolean {
  const action = after?.lastRemoteActionResult
  if (!isReprovision(action)) return false
  const started = Date.parse(action?.startDateTime ?? '')
  if (Number.isNaN(started)) return false
  if (!isReprovision(before)) return true
  return !(started <= Date.parse(before?.startDateTime ?? ''))
}

/**
 * Done: the new reprovision's result ends `done`, or `provisionedDateTime` moved past the one
 * before with the Cloud PC provisioned. Failed: that result ends `failed` (or `canceled`,
 * `notSupported`), or the status becomes `failed`. A Cloud PC that was failed before the request
 * still shows `failed` until the rebuild starts, so for it only a failure after a start counts.
 */
export function observeRebuild(before: CloudPc, now: CloudPc, seenRunning: boolean): Rebuild {
  const fresh = reprovisionStarted(before.lastRemoteActionResult, now)
  if (fresh) {
    const action = now.lastRemoteActionResult!
    const state = String(action.actionState ?? '').toLowerCase()
    if (state === 'done') return { kind: 'done' }
    if (state === 'failed' || state === 'canceled' || state === 'notsupported')
      return { kind: 'failed', detail: `the reprovision ended ${action.actionState}${describeDetail(action)}` }
    // pending, active, none, or a state added later: the rebuild has begun and not ended.
    seenRunning = true
  }
  const status = parseCloudPcStatus(now.status)
  if ((status === 'provisioned' || status === 'provisionedWithWarnings') && movedOn(before, now)) return { kind: 'done' }
  if (status === 'failed' && (seenRunning || parseCloudPcStatus(before.status) !== 'failed'))
    return {
      kind: 'failed',
      detail: `the Cloud PC is ${String(now.status)}${fresh ? describeDetail(now.lastRemoteActionResult) : ''}`
    }
  if (seenRunning || status === 'provisioning') return { kind: 'running' }
  return { kind: 'notSeen' }
}

/** `provisionedDateTime` is later than before the request (or there was none before). */
function movedOn(before: CloudPc, now: CloudPc): boolean {
  const after = Date.parse(now.provisionedDateTime ?? '')
  if (Number.isNaN(after)) return false
  return !(after <= Date.parse(before.provisionedDateTime ?? ''))
}

function describeDetail(action: RemoteActionResult | null | undefined): string {
  const detail = action?.statusDetail
  if (!detail || !(detail.code || detail.message)) return ''
  return ` (${[detail.code, detail.message].filter(Boolean).join(': ')})`
}
