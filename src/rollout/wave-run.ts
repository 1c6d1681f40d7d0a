// Reprovisions Cloud PCs wave by wave and watches each rebuild to its end. A wave starts only once
// the previous one is seen finished; the roll-out stops when failures exceed what the user
// tolerates or a wave outlasts its time-out, so a bad image reaches as few users as asked.

import type { Clock } from '../core/clock.js'
import { cloudPcPath, idKey, readCloudPc, readCloudPcs } from '../graph/cloud-pcs.js'
import { throwIfCancelled } from '../core/cancel.js'
import { pollUntil } from '../core/poll.js'
import { formatDuration } from '../core/duration.js'
import { ActionError, CancelledError, GraphError, messageOf, UnsettledError } from '../core/errors.js'
import type { GraphClient } from '../graph/client.js'
import type { CloudPc } from '../graph/model.js'
import type { Settings } from '../inputs.js'
import type { Logger } from '../core/logger.js'
import { observeRebuild, reprovisionStarted } from './rebuild-observation.js'
import { CLOUD_PC_OUTCOMES, type CloudPcResult, outcomeCounts, type RunReport, type WaveReport } from '../report/run-report.js'
import { settleWrite } from '../http/settle-write.js'
import { staleGraceMs } from '../graph/read-lag.js'
import { isReprovisionable, type Wave, withholdsLaterWaves } from './wave-plan.js'

/** Requests in flight at once; the requester's rate gate and Retry-After handling pace them further. */
export const REPROVISION_CONCURRENCY = 8

export interface ReprovisionDeps {
  client: GraphClient
  clock: Clock
  logger: Logger
  signal?: AbortSignal
  concurrency?: number
}

/** How the waves ended, when they did not throw: a cancellation is a CancelledError. */
export type WavesEnd = { kind: 'completed' } | { kind: 'withheld'; after: number; reason: string }

/** Why the wave run ended with entries still open: it decides the final outcome each one takes. */
export type Interruption = { kind: 'withheld'; reason: string } | { kind: 'cancelled' } | { kind: 'stopped'; reason: string }

/** One Cloud PC of a running wave. */
interface Tracked {
  entry: CloudPcResult
  /** The Cloud PC as read just before its request: what later reads are compared with. */
  before: CloudPc
  requestedAt: number
  seenRunning: boolean
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
const isOpen = (entry: CloudPcResult): boolean => CLOUD_PC_OUTCOMES[entry.result].stage === 'open'
const failures = (entries: CloudPcResult[]): number =>
  entries.filter(entry => CLOUD_PC_OUTCOMES[entry.result].output === 'failed').length

/**
 * Runs the waves in turn. Every exit, a throw included, leaves each Cloud PC and each wave in a
 * final state that says why, so the outputs and the summary account for all of them.
 */
export async function runWaves(
  settings: Settings,
  waves: Wave<CloudPc>[],
  report: RunReport,
  deps: ReprovisionDeps
): Promise<WavesEnd> {
  let interruption: Interruption | undefined
  try {
    const end = await eachWave(settings, waves, report, deps)
    if (end.kind === 'withheld') interruption = end
    return end
  } catch (error) {
    // The one place a cancellation in the waves is caught: what it left open is closed below.
    interruption = error instanceof CancelledError ? { kind: 'cancelled' } : { kind: 'stopped', reason: stopReason(error) }
    throw error
  } finally {
    // Nothing is open after a completed run; should an entry be, it still ends in a final state.
    closeOpen(report, deps.clock, interruption ?? { kind: 'stopped', reason: 'the roll-out ended before it was done' })
  }
}

async function eachWave(settings: Settings, waves: Wave<CloudPc>[], report: RunReport, deps: ReprovisionDeps): Promise<WavesEnd> {
  const { clock, logger } = deps
  const entries = new Map((report.cloudPcs ?? []).map(pc => [idKey(pc.id), pc]))
  const entryOf = (pc: CloudPc): CloudPcResult => entries.get(idKey(pc.id))!
  const infos = report.waves ?? []
  let failed = 0
  for (const [index, wave] of waves.entries()) {
    const info = infos[index]
    const label = `Wave ${info.number} of ${waves.length}`
    info.startedAt = clock.now()
    info.outcome = 'running'
    // A later wave starts hours after the listing: read its Cloud PCs again, so each request is
    // compared with the Cloud PC as it is now, and one that changed status meanwhile is left alone.
    // An outage is ridden out as long as the wave's own reads would be.
    let members = wave.members
    if (index > 0) {
      const deadline = settings.reprovisionTimeoutMs > 0 ? clock.now() + settings.reprovisionTimeoutMs : undefined
      members = await refresh(wave.members, entryOf, deps, deadline)
    }
    info.size = members.length
    logger.info(`${label} (up to ${info.target}): reprovisioning ${plural(members.length, 'Cloud PC')}.`)
    const tracked = await request(members, entryOf, deps)
    throwIfCancelled(deps.signal)
    if (settings.reprovisionTimeoutMs === 0) {
      for (const t of tracked) {
        if (t.entry.result === 'requested') t.entry.result = 'accepted'
        // Not waiting means no later read can show it started: it counts as failed, as it is not sent again.
        if (t.entry.result === 'unconfirmed') {
          t.entry.result = 'failed'
          t.entry.error = 'the answer to the request was lost, and no read showed it take effect; it is not sent again'
        }
      }
      finishWave(info, clock, 'accepted', tracked, logger, label)
      failed += failures(tracked.map(t => t.entry))
      continue
    }
    const watched = await watch(tracked, info.startedAt, settings, deps, label)
    finishWave(info, clock, watched, tracked, logger, label)
    failed += failures(tracked.map(t => t.entry))
    const rest = infos.slice(index + 1)
    if (rest.length === 0) break
    let reason: string | undefined
    if (watched === 'timedOut')
      reason = `wave ${info.number} was not seen finished within reprovisionTimeoutMinutes (${formatDuration(settings.reprovisionTimeoutMs)})`
    else if (withholdsLaterWaves(failed, settings.maxReprovisionFailures))
      reason = `${plural(failed, 'failed reprovision')} so far, more than maxReprovisionFailures (${settings.maxReprovisionFailures}) tolerates`
    if (reason) {
      logger.info(`Withholding ${plural(rest.length, 'later wave')}: ${reason}.`)
      return { kind: 'withheld', after: info.number, reason }
    }
  }
  return { kind: 'completed' }
}

/** What an error that stopped the roll-out is called in each Cloud PC's why; the failure gives it whole. */
function stopReason(error: unknown): string {
  return error instanceof ActionError ? error.title : 'an unexpected error'
}

/**
 * The final outcome an open entry takes when the run ends: one whose wave did not start is left
 * alone (withheld, or not started); one requested and not seen finished is named as such, as its
 * rebuild goes on in the service.
 */
export function closeEntry(entry: CloudPcResult, why: Interruption): void {
  if (!isOpen(entry)) return
  if (entry.result === 'pending') {
    if (why.kind === 'withheld') {
      entry.result = 'withheld'
      entry.error = `withheld: ${why.reason}`
    } else {
      entry.result = 'notStarted'
      entry.error = `not started: ${why.kind === 'cancelled' ? 'the run was cancelled' : `the roll-out stopped (${why.reason})`}`
    }
    return
  }
  const when = why.kind === 'cancelled' ? 'the run was cancelled' : `the roll-out stopped (${why.reason})`
  entry.result = why.kind === 'cancelled' ? 'cancelled' : 'stopped'
  entry.error = `requested, not seen finished when ${when}: the rebuild goes on in the service`
}

/** Closes every open Cloud PC and wave of the report. */
function closeOpen(report: RunReport, clock: Clock, why: Interruption): void {
  for (const entry of report.cloudPcs ?? []) closeEntry(entry, why)
  for (const info of report.waves ?? [])
    if (info.outcome === 'pending') info.outcome = 'withheld'
    else if (info.outcome === 'running') {
      info.outcome = why.kind === 'cancelled' ? 'cancelled' : 'stopped'
      info.endedAt = clock.now()
    }
}

async function refresh(
  members: CloudPc[],
  entryOf: (pc: CloudPc) => CloudPcResult,
  deps: ReprovisionDeps,
  deadline: number | undefined
): Promise<CloudPc[]> {
  const now = await readCloudPcs(deps.client, members, deps.logger, deadline)
  const kept: CloudPc[] = []
  for (const pc of members) {
    const fresh = now.get(idKey(pc.id))
    const entry = entryOf(pc)
    if (fresh && isReprovisionable(fresh.status)) {
      kept.push(fresh)
      continue
    }
    entry.result = 'skipped'
    entry.error = fresh
      ? `status ${fresh.status ?? 'unknown'} when its wave began: the service reprovisions only provisioned or failed Cloud PCs`
      : 'it no longer exists'
    if (fresh) entry.status = String(fresh.status ?? '')
    deps.logger.info(`Cloud PC ${describe(entry)} is left alone: ${entry.error}.`)
  }
  return kept
}

/** Sends each reprovision once, a few at a time; one Cloud PC's trouble does not stop the others. */
async function request(members: CloudPc[], entryOf: (pc: CloudPc) => CloudPcResult, deps: ReprovisionDeps): Promise<Tracked[]> {
  const { client, clock, logger } = deps
  const tracked: Tracked[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < members.length && !deps.signal?.aborted) {
      const before = members[next++]
      const t: Tracked = { entry: entryOf(before), before, requestedAt: clock.now(), seenRunning: false }
      tracked.push(t)
      const path = cloudPcPath(before.id)
      try {
        await settleWrite({
          what: `Reprovisioning Cloud PC ${before.id}`,
          logger,
          // Never sent twice: a reprovision erases the Cloud PC, and one whose answer was lost may have started.
          maxWrites: 1,
          write: async () => void (await client.request({ method: 'POST', path: `${path}/reprovision` })),
          check: async () => {
            const now = await readCloudPc(client, before.id)
            return reprovisionStarted(before.lastRemoteActionResult, now)
              ? { kind: 'done', value: undefined }
              : { kind: 'notDone' }
          }
        })
        t.entry.result = 'requested'
      } catch (error) {
        if (error instanceof CancelledError) {
          t.entry.result = 'cancelled'
          t.entry.error = 'cancelled with the request in flight: it may have started'
        } else if (error instanceof UnsettledError) {
          // Reads may lag: the rebuild may still show up, so it is watched with the others for a while.
          t.entry.result = 'unconfirmed'
          t.entry.error = 'the answer to the request was lost'
        } else {
          t.entry.result = 'failed'
          t.entry.error = `the request failed: ${briefError(error)}`
          logger.info(`Cloud PC ${describe(t.entry)} was not reprovisioned: ${t.entry.error}`)
        }
      }
    }
  }
  // The workers stop sending once the run is cancelled, each after its request in flight is recorded;
  // those not sent stay pending, and closing the run says why.
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? REPROVISION_CONCURRENCY, members.length) }, worker))
  return tracked
}

/**
 * Reads the wave's Cloud PCs every poll interval until each is seen provisioned again or failed,
 * or the wave's time-out. Each poll lists the policies of the Cloud PCs still open.
 */
async function watch(
  tracked: Tracked[],
  startedAt: number,
  settings: Settings,
  deps: ReprovisionDeps,
  label: string
): Promise<'finished' | 'timedOut'> {
  const { clock, logger } = deps
  const deadline = clock.now() + settings.reprovisionTimeoutMs
  const lostAnswerGraceMs = staleGraceMs(settings.pollIntervalMs)
  const open = () => tracked.filter(t => isOpen(t.entry))
  /** What one read says of a Cloud PC (`undefined`: the read did not show it; `null`: it no longer exists). */
  const observe = (t: Tracked, pc: CloudPc | null | undefined): void => {
    if (pc === undefined) return
    if (pc === null) return settle(t, 'failed', 'it no longer exists', logger)
    const seen = observeRebuild(t.before, pc, t.seenRunning)
    if (seen.kind === 'done') settle(t, 'reprovisioned', undefined, logger)
    else if (seen.kind === 'failed') settle(t, 'failed', seen.detail, logger)
    else if (seen.kind === 'running') {
      t.seenRunning = true
      if (t.entry.result === 'unconfirmed') {
        t.entry.result = 'requested'
        t.entry.error = undefined
        logger.info(`Cloud PC ${describe(t.entry)}: its rebuild was seen under way after the answer to the request was lost.`)
      }
    } else if (t.entry.result === 'unconfirmed' && clock.now() - t.requestedAt >= lostAnswerGraceMs)
      settle(
        t,
        'failed',
        `the answer to the request was lost, and no read within ${formatDuration(lostAnswerGraceMs)} showed the rebuild start; it is not sent again`,
        logger
      )
  }
  const end = await pollUntil({
    clock,
    signal: deps.signal,
    deadline,
    intervalMs: settings.pollIntervalMs,
    check: () => (open().length === 0 ? 'finished' : undefined),
    heartbeat: now =>
      logger.info(
        `${label}: ${progress(tracked)} after ${formatDuration(now - startedAt)}; ${formatDuration(deadline - now)} left before its time-out.`
      ),
    // Reads are retried until the wave's deadline; an outage that lasts to it ends the wave as unfinished.
    read: async until => {
      const reads = await readCloudPcs(
        deps.client,
        open().map(t => t.before),
        logger,
        until
      )
      for (const t of open()) observe(t, reads.get(idKey(t.before.id)))
    }
  })
  if (end.kind === 'done') return end.value
  const cause = end.cause
    ? `reads failed until the time-out: ${end.cause.message}`
    : `reprovisionTimeoutMinutes: ${formatDuration(settings.reprovisionTimeoutMs)}`
  for (const t of open()) {
    t.entry.error =
      t.entry.result === 'unconfirmed'
        ? `the answer to the request was lost, and the rebuild was not seen to start (${cause})`
        : `not seen finished (${cause}); the rebuild goes on in the service`
    t.entry.result = 'timedOut'
  }
  return 'timedOut'
}

function settle(t: Tracked, result: 'reprovisioned' | 'failed', error: string | undefined, logger: Logger): void {
  t.entry.result = result
  t.entry.error = error
  logger.info(`Cloud PC ${describe(t.entry)} ${result === 'reprovisioned' ? 'is provisioned again' : `failed: ${error}`}.`)
}

function finishWave(
  info: WaveReport,
  clock: Clock,
  outcome: 'finished' | 'timedOut' | 'accepted',
  tracked: Tracked[],
  logger: Logger,
  label: string
): void {
  info.endedAt = clock.now()
  info.outcome = outcome
  const took = formatDuration(info.endedAt - (info.startedAt ?? info.endedAt))
  const how = { finished: 'finished', timedOut: 'timed out', accepted: 'requested (not waited for)' }[outcome]
  logger.info(`${label} ${how} after ${took}: ${progress(tracked)}.`)
}

function progress(tracked: Tracked[]): string {
  return outcomeCounts(tracked.map(t => t.entry.result))
}

export function describe(pc: Pick<CloudPcResult, 'id' | 'displayName'>): string {
  return `${pc.id}${pc.displayName ? ` "${pc.displayName}"` : ''}`
}

export function briefError(error: unknown): string {
  if (error instanceof GraphError)
    return `${error.details.status} ${error.details.code}: ${error.details.message} (request-id ${error.details.requestId ?? 'none'})`
  return messageOf(error)
}
