// Who is reprovisioned, and in which wave: pure decisions on values, tested without a network.

import { canonicalId, type CloudPc, parseCloudPcStatus } from '../graph/model.js'

/** One cumulative target of `reprovisionWaves`: a number of Cloud PCs, or a share of them. */
export type WaveTarget = { kind: 'count'; count: number } | { kind: 'percent'; percent: number }

/**
 * Each wave waits up to `reprovisionTimeoutMinutes` for rebuilds of 30-60 minutes; ten waves are
 * already longer than a hosted runner's six-hour job limit.
 */
export const MAX_WAVES = 10

const COUNT = /^[1-9]\d{0,6}$/
const PERCENT = /^(\d{1,3}(?:\.\d+)?|\.\d+)%$/

export function formatTarget(target: WaveTarget): string {
  return target.kind === 'count' ? String(target.count) : `${target.percent}%`
}

/**
 * Parses `reprovisionWaves`: comma-separated cumulative targets, strictly increasing; `100%` is
 * implied at the end and left out of the result. A count after a percentage is refused: whether it
 * is larger depends on how many Cloud PCs there are, which is known only after the upload.
 */
export function parseWaves(raw: string): { ok: true; targets: WaveTarget[] } | { ok: false; message: string } {
  const parts = raw.split(',').map(part => part.trim())
  const bad = (why: string) => ({
    ok: false as const,
    message: `reprovisionWaves must be comma-separated cumulative targets, each a count (1, 20) or a percentage (10%), strictly increasing, for example 1,10% (one Cloud PC, then up to 10 %, then the rest); ${why}; got "${raw}".`
  })
  if (parts.length > MAX_WAVES) return bad(`at most ${MAX_WAVES} targets are allowed`)
  const targets: WaveTarget[] = []
  for (const part of parts) {
    let target: WaveTarget
    if (COUNT.test(part)) target = { kind: 'count', count: Number(part) }
    else if (PERCENT.test(part) && Number(part.slice(0, -1)) > 0 && Number(part.slice(0, -1)) <= 100)
      target = { kind: 'percent', percent: Number(part.slice(0, -1)) }
    else
      return bad(
        part === '' ? 'an entry is empty' : `"${part}" is neither a count of at least 1 nor a percentage above 0 and at most 100`
      )
    const previous = targets[targets.length - 1]
    if (previous?.kind === 'percent' && target.kind === 'count')
      return bad(`the count ${part} follows a percentage: put counts first (for example 1,5,10%)`)
    if (previous && previous.kind === target.kind && !(value(target) > value(previous)))
      return bad(`${part} is not larger than ${formatTarget(previous)}`)
    targets.push(target)
  }
  const last = targets[targets.length - 1]
  if (last.kind === 'percent' && last.percent === 100) targets.pop()
  return { ok: true, targets }
}

function value(target: WaveTarget): number {
  return target.kind === 'count' ? target.count : target.percent
}

/** How many Cloud PCs of `total` a target covers: a percentage rounds down, but never to none. */
export function resolveTarget(target: WaveTarget, total: number): number {
  if (target.kind === 'count') return Math.min(target.count, total)
  return Math.min(total, Math.max(1, Math.floor((total * target.percent) / 100)))
}

export interface Wave<T> {
  /** The cumulative target this wave reaches, as the user wrote it (`100%` for the rest). */
  target: string
  members: T[]
}

/**
 * Splits the Cloud PCs into waves in a stable order (by ID, case-insensitively). A target that
 * adds no Cloud PC beyond the previous one makes no wave.
 */
export function splitIntoWaves<T extends { id: string }>(items: T[], targets: WaveTarget[]): Wave<T>[] {
  const ordered = [...items].sort((a, b) => compareIds(a.id, b.id))
  const waves: Wave<T>[] = []
  let reached = 0
  for (const [target, upTo] of [
    ...targets.map(t => [formatTarget(t), resolveTarget(t, ordered.length)] as const),
    ['100%', ordered.length] as const
  ]) {
    if (upTo <= reached) continue
    waves.push({ target, members: ordered.slice(reached, upTo) })
    reached = upTo
  }
  return waves
}

function compareIds(a: string, b: string): number {
  const x = canonicalId(a)
  const y = canonicalId(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** Statuses the service reprovisions from: "Failed or Provisioned" (docs/graph-facts.md#reprovision-eligibility). */
export function isReprovisionable(status: unknown): boolean {
  const parsed = parseCloudPcStatus(status)
  return parsed === 'provisioned' || parsed === 'provisionedWithWarnings' || parsed === 'failed'
}

export type Selection = { kind: 'reprovision' } | { kind: 'skip'; reason: string }

/** Whether a listed Cloud PC is reprovisioned, and why not. */
export function selectCloudPc(pc: CloudPc, excluded: ReadonlySet<string>): Selection {
  if (excluded.has(canonicalId(pc.id))) return { kind: 'skip', reason: 'excluded (excludeCloudPcIds)' }
  if (!isReprovisionable(pc.status))
    return {
      kind: 'skip',
      reason: `status ${pc.status ?? 'unknown'}: the service reprovisions only provisioned or failed Cloud PCs`
    }
  return { kind: 'reprovision' }
}

/** Later waves are withheld once the failures so far exceed what `maxReprovisionFailures` tolerates. */
export function withholdsLaterWaves(failuresSoFar: number, maxReprovisionFailures: number): boolean {
  return failuresSoFar > maxReprovisionFailures
}

export interface ReprovisionPlan {
  waves: Wave<CloudPc>[]
  skipped: { pc: CloudPc; reason: string }[]
}

/** Splits the listed Cloud PCs into the skipped ones (with why) and the waves of the rest. */
export function planWaves(
  pcs: readonly CloudPc[],
  settings: { excludeCloudPcIds: readonly string[]; reprovisionWaves: WaveTarget[] }
): ReprovisionPlan {
  const excluded = new Set(settings.excludeCloudPcIds.map(canonicalId))
  const chosen: CloudPc[] = []
  const skipped: ReprovisionPlan['skipped'] = []
  for (const pc of pcs) {
    const selection = selectCloudPc(pc, excluded)
    if (selection.kind === 'skip') skipped.push({ pc, reason: selection.reason })
    else chosen.push(pc)
  }
  return { waves: splitIntoWaves(chosen, settings.reprovisionWaves), skipped }
}
