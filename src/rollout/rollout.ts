// Points provisioning policies at the ready image and reprovisions their Cloud PCs in waves.
// Reprovisioning erases a Cloud PC's local data, so it happens only on request, to exactly the
// listed machines, and only for policies that now use the image.

import { idKey, listPoliciesCloudPcs, readCloudPc, readCloudPcs } from '../graph/cloud-pcs.js'
import { formatDuration } from '../core/duration.js'
import { ActionError, CancelledError, isNotFound, messageOf } from '../core/errors.js'
import type { GraphClient } from '../graph/client.js'
import { checkRead } from '../graph/answer-checks.js'
import {
  type CloudPc,
  type DeviceImage,
  POLICIES_PATH,
  type PolicyImagePatch,
  type ProvisioningPolicy,
  usesImage
} from '../graph/model.js'
import type { Settings } from '../inputs.js'
import type { Logger } from '../core/logger.js'
import { briefError, describe, REPROVISION_CONCURRENCY, type ReprovisionDeps, runWaves, type WavesEnd } from './wave-run.js'
import {
  type CloudPcResult,
  type FinalOutcome,
  outcomeCounts,
  type PolicyResult,
  type RunReport,
  type WaveReport
} from '../report/run-report.js'
import { settleWrite } from '../http/settle-write.js'
import { planWaves, type ReprovisionPlan } from './wave-plan.js'

/** Cloud PCs named in the error annotation; the summary lists them all. */
const MAX_NAMED = 20

export interface RolloutTargets {
  policies: ProvisioningPolicy[]
  /** The `cloudPcIds` input, as the service knows them. */
  extraCloudPcs: CloudPc[]
  /** The policies' Cloud PCs and the extra ones, each once, as listed before anything was changed. */
  cloudPcs: CloudPc[]
}

/**
 * Reads the policies and Cloud PCs before anything is published, so an unknown ID, or a Cloud PC
 * list the service will not filter, fails the step in seconds instead of after the upload.
 */
export async function checkRolloutTargets(client: GraphClient, settings: Settings, logger: Logger): Promise<RolloutTargets> {
  const policies = await getAll(settings.provisioningPolicyIds, 'provisioningPolicyIds', 'provisioning policy', id =>
    readPolicy(client, id)
  )
  for (const p of policies)
    logger.info(
      `Policy "${p.displayName ?? ''}" (${p.id}) uses the ${String(p.imageType ?? 'unknown')} image ${p.imageDisplayName ? `"${p.imageDisplayName}"` : String(p.imageId ?? 'none')}.`
    )
  if (!settings.reprovision) return { policies, extraCloudPcs: [], cloudPcs: [] }
  const extraCloudPcs = await getAll(settings.cloudPcIds, 'cloudPcIds', 'Cloud PC', id => readCloudPc(client, id))
  const listed = await listPoliciesCloudPcs(
    client,
    policies.map(p => p.id),
    logger
  )
  const cloudPcs = uniqueById([...listed, ...extraCloudPcs])
  logger.info(
    `${cloudPcs.length} Cloud PC${cloudPcs.length === 1 ? '' : 's'} to consider for the reprovision (${listed.length} of the policies, ${extraCloudPcs.length} from cloudPcIds).`
  )
  return { policies, extraCloudPcs, cloudPcs }
}

/** The policy `id` as it is now, checked to be that one. */
function readPolicy(client: GraphClient, id: string): Promise<ProvisioningPolicy> {
  const path = `${POLICIES_PATH}/${encodeURIComponent(id)}`
  return client
    .get<unknown>(path)
    .then(response => checkRead<ProvisioningPolicy>('cloudPcProvisioningPolicy', response.body, id, `GET ${path}`))
}

async function getAll<T>(ids: string[], input: string, what: string, read: (id: string) => Promise<T>): Promise<T[]> {
  const found: T[] = []
  const unknown: string[] = []
  for (const id of ids) {
    try {
      found.push(await read(id))
    } catch (error) {
      if (isNotFound(error)) unknown.push(id)
      else throw error
    }
  }
  if (unknown.length > 0)
    throw new ActionError(
      `Unknown ${what}`,
      `${input}: no ${what} with the ID ${unknown.join(', ')} exists in this tenant. Nothing was changed.`
    )
  return found
}

/**
 * Cloud PCs of the policies (every page) plus the extra ones, each once, as they are now. The extra
 * ones were read before the upload, so they are read again; `gone` lists those that no longer exist.
 */
async function collectCloudPcs(
  client: GraphClient,
  policyIds: string[],
  extra: CloudPc[],
  logger: Logger
): Promise<{ pcs: CloudPc[]; gone: CloudPc[] }> {
  const listed = await listPoliciesCloudPcs(client, policyIds, logger)
  const have = new Set(listed.map(pc => idKey(pc.id)))
  const missing = extra.filter(pc => !have.has(idKey(pc.id)))
  const now = missing.length > 0 ? await readCloudPcs(client, missing, logger) : new Map<string, CloudPc | null>()
  const fresh = missing.map(pc => now.get(idKey(pc.id))).filter((pc): pc is CloudPc => !!pc)
  return { pcs: uniqueById([...listed, ...fresh]), gone: missing.filter(pc => !now.get(idKey(pc.id))) }
}

function uniqueById<T extends { id: string }>(items: T[]): T[] {
  const seen = new Set<string>()
  return items.filter(item => !seen.has(idKey(item.id)) && seen.add(idKey(item.id)))
}

/** A policy that already uses the image as a custom image is left alone. */
function needsUpdate(policy: ProvisioningPolicy, imageId: string): boolean {
  return !(usesImage(policy, imageId) && String(policy.imageType ?? '').toLowerCase() === 'custom')
}

/** The report's Cloud PC entries and waves for a plan; `planned` for a dry run. */
function recordPlan(plan: ReprovisionPlan, report: RunReport, planned: boolean): void {
  const entry = (pc: CloudPc, result: CloudPcResult['result'], extra: Partial<CloudPcResult>): CloudPcResult => ({
    id: pc.id,
    displayName: pc.displayName ?? '',
    userPrincipalName: pc.userPrincipalName ?? '',
    status: String(pc.status ?? ''),
    result,
    ...extra
  })
  report.cloudPcs = [
    ...plan.waves.flatMap((wave, i) =>
      wave.members.map(pc => entry(pc, planned ? 'would reprovision' : 'pending', { wave: i + 1 }))
    ),
    ...plan.skipped.map(({ pc, reason }) => entry(pc, planned ? 'would skip' : 'skipped', { error: reason }))
  ]
  report.waves = plan.waves.map((wave, i): WaveReport => ({
    number: i + 1,
    target: wave.target,
    size: wave.members.length,
    outcome: planned ? 'planned' : 'pending'
  }))
}

function describeWaves(plan: ReprovisionPlan): string {
  return plan.waves.map((w, i) => `wave ${i + 1} (up to ${w.target}): ${w.members.length}`).join('; ')
}

/** The dry run: what would be updated and reprovisioned, from reads only. */
export function planRollout(settings: Settings, targets: RolloutTargets, report: RunReport, logger: Logger): void {
  const imageId = report.image?.id
  report.policies = targets.policies.map(p => ({
    id: p.id,
    displayName: p.displayName ?? '',
    result: imageId && !needsUpdate(p, imageId) ? 'would skip' : 'would update'
  }))
  for (const p of report.policies)
    logger.info(
      `Policy "${p.displayName}" (${p.id}): ${p.result === 'would skip' ? 'already uses the image' : 'would be pointed at the image'}.`
    )
  report.plan.push(...report.policies.map(p => `Policy "${p.displayName}" (${p.id}): ${p.result}.`))
  if (!settings.reprovision) return
  const plan = planWaves(targets.cloudPcs, settings)
  recordPlan(plan, report, true)
  const total = plan.waves.reduce((n, w) => n + w.members.length, 0)
  logger.info(
    `Would reprovision ${total} Cloud PC${total === 1 ? '' : 's'}, erasing their local data, in ${plan.waves.length} wave${plan.waves.length === 1 ? '' : 's'}:`
  )
  for (const [i, wave] of plan.waves.entries()) {
    logger.info(`Wave ${i + 1} (up to ${wave.target}):`)
    for (const pc of wave.members)
      logger.info(`  ${pc.id}  ${pc.displayName || '—'}  ${pc.userPrincipalName || '—'}  ${pc.status ?? 'unknown'}`)
  }
  for (const { pc, reason } of plan.skipped)
    logger.info(`Would leave ${describe({ id: pc.id, displayName: pc.displayName ?? '' })} alone: ${reason}.`)
  report.plan.push(
    `Reprovision ${total} Cloud PC${total === 1 ? '' : 's'}${plan.waves.length > 1 ? ` in ${plan.waves.length} waves (${describeWaves(plan)})` : ''}${plan.skipped.length > 0 ? `; leave ${plan.skipped.length} alone` : ''}.`
  )
}

/** The roll-out needs what the waves need, nothing more. */
export type RolloutDeps = ReprovisionDeps

export async function rollOut(
  settings: Settings,
  image: DeviceImage,
  targets: RolloutTargets,
  report: RunReport,
  deps: RolloutDeps
): Promise<void> {
  const { client, logger } = deps
  report.timeline.push({ at: deps.clock.now(), label: 'roll-out', kind: 'action' })
  // Each result goes into the report as soon as it is known, so an error or a cancellation later
  // leaves the outputs saying what was done.
  report.policies = []
  for (const policy of targets.policies) {
    const result = await updatePolicy(client, policy, image, report, logger)
    report.policies.push(result)
    if (result.result === 'updated' || result.result === 'skipped') report.updatedPolicyIds.push(result.id)
    logger.info(`Policy "${result.displayName}" (${result.id}): ${result.result}${result.error ? ` (${result.error})` : ''}.`)
  }

  let end: WavesEnd | undefined
  if (settings.reprovision) {
    // Only Cloud PCs of policies that now use the image: the others would be rebuilt from the old one.
    const { pcs, gone } = await collectCloudPcs(client, report.updatedPolicyIds, targets.extraCloudPcs, logger)
    const plan = planWaves(pcs, settings)
    plan.skipped.push(...gone.map(pc => ({ pc, reason: 'it no longer exists' })))
    recordPlan(plan, report, false)
    for (const { pc, reason } of plan.skipped)
      logger.info(`Leaving Cloud PC ${describe({ id: pc.id, displayName: pc.displayName ?? '' })} alone: ${reason}.`)
    const total = plan.waves.reduce((n, w) => n + w.members.length, 0)
    logger.info(
      `Reprovisioning ${total} Cloud PC${total === 1 ? '' : 's'} in ${plan.waves.length} wave${plan.waves.length === 1 ? '' : 's'}${plan.waves.length > 1 ? ` (${describeWaves(plan)})` : ''}, ${deps.concurrency ?? REPROVISION_CONCURRENCY} requests at a time${settings.reprovisionTimeoutMs === 0 ? '; not waiting for the rebuilds (reprovisionTimeoutMinutes: 0)' : ''}.`
    )
    try {
      end = await runWaves(settings, plan.waves, report, deps)
    } catch (error) {
      if (error instanceof CancelledError) throw cancelled(report, settings)
      // The cause's title, which the README's tables of what the step says explain.
      throw new ActionError(
        error instanceof ActionError ? error.title : 'Roll-out stopped',
        `The image is ready, but the roll-out stopped: ${whyStopped(error)} ${rolloutCounts(report)}. ${namedProblems(report, settings)}`.trim()
      )
    }
  }

  const problems = namedProblems(report, settings, end)
  // The error says the same when there are problems: each message once.
  if (!problems) logger.info(`Roll-out: ${rolloutCounts(report)}.`)
  if (problems)
    throw new ActionError(
      'Roll-out incomplete',
      `The image is ready, but the roll-out did not complete: ${rolloutCounts(report)}. ${problems}`.trim()
    )
}

/** Records what a cancellation left of the roll-out, for the summary, and returns the error to throw. */
function cancelled(report: RunReport, settings: Settings): CancelledError {
  return new CancelledError(
    [
      'The run was cancelled during the roll-out.',
      `${rolloutCounts(report)}.`,
      namedProblems(report, settings),
      'Run again to reprovision the rest.'
    ]
      .filter(Boolean)
      .join(' ')
  )
}

/** The error that stopped the roll-out, with what a permission problem needs done, or a bug's stack. */
/** The cause in words, a refusal with its permission hint (an ActionError's failure carries it). */
function whyStopped(error: unknown): string {
  const message = (
    error instanceof ActionError || !(error instanceof Error) ? messageOf(error) : (error.stack ?? error.message)
  ).trim()
  return `${message}${/[.!?]$/.test(message) ? '' : '.'}`
}

/** "2 of 2 policies use the image; Cloud PCs: 9 reprovisioned (seen provisioned again), 1 failed, …" */
function rolloutCounts(report: RunReport): string {
  const policies = `${report.updatedPolicyIds.length} of ${report.policies?.length ?? 0} policies use the image`
  if (!report.cloudPcs) return policies
  return `${policies}; Cloud PCs: ${outcomeCounts(report.cloudPcs.map(pc => pc.result))}`
}

type Naming = (pcs: CloudPcResult[]) => string

/** The policies and Cloud PCs that make the roll-out incomplete, each named with why. */
function namedProblems(report: RunReport, settings: Settings, end?: WavesEnd): string {
  const parts: string[] = []
  const failedPolicies = (report.policies ?? []).filter(p => p.result === 'failed')
  if (failedPolicies.length > 0)
    parts.push(
      `Policies not updated (their Cloud PCs were not reprovisioned): ${failedPolicies.map(p => `${p.id} (${p.error})`).join('; ')}.`
    )
  const name = (pcs: CloudPcResult[], withWhy: boolean) =>
    `${pcs
      .slice(0, MAX_NAMED)
      .map(pc => `${describe(pc)}${withWhy && pc.error ? ` (${pc.error})` : ''}`)
      .join('; ')}${pcs.length > MAX_NAMED ? `; and ${pcs.length - MAX_NAMED} more (see the job summary)` : ''}`
  // How the error names the Cloud PCs of each final outcome; those of the outputs that went well are not named.
  const named: Record<FinalOutcome, Naming | undefined> = {
    reprovisioned: undefined,
    accepted: undefined,
    skipped: undefined,
    failed: pcs => `Failed: ${name(pcs, true)}.`,
    timedOut: pcs =>
      `Not seen finished within reprovisionTimeoutMinutes (${formatDuration(settings.reprovisionTimeoutMs)}); their rebuilds go on in the service: ${name(pcs, false)}.`,
    cancelled: pcs => `Requested, not seen finished (the rebuilds go on in the service): ${name(pcs, false)}.`,
    stopped: pcs =>
      `Requested, not seen finished when the roll-out stopped (the rebuilds go on in the service): ${name(pcs, false)}.`,
    withheld: pcs =>
      `Withheld${end?.kind === 'withheld' ? ` after wave ${end.after} (${end.reason})` : ''}: ${name(pcs, false)}. Fix the cause, then run again to reprovision them.`,
    notStarted: pcs => `Not started: ${name(pcs, false)}.`
  }
  for (const [outcome, sentence] of Object.entries(named) as [FinalOutcome, Naming | undefined][]) {
    const pcs = (report.cloudPcs ?? []).filter(pc => pc.result === outcome)
    if (sentence && pcs.length > 0) parts.push(sentence(pcs))
  }
  return parts.join(' ')
}

/**
 * Points the policy at the image, first recording what it held (previousPolicyImages). The policy
 * is read again: hours may have passed since the check before the upload, and a rollback must
 * restore what the policy held just before this change. A lost answer is settled by reading it.
 */
async function updatePolicy(
  client: GraphClient,
  listed: ProvisioningPolicy,
  image: DeviceImage,
  report: RunReport,
  logger: Logger
): Promise<PolicyResult> {
  const base = { id: listed.id, displayName: listed.displayName ?? '' }
  const path = `${POLICIES_PATH}/${encodeURIComponent(listed.id)}`
  try {
    const policy = await readPolicy(client, listed.id)
    if (!needsUpdate(policy, image.id)) return { ...base, result: 'skipped' }
    const previous = {
      imageId: policy.imageId ?? null,
      imageDisplayName: policy.imageDisplayName ?? null,
      imageType: policy.imageType ?? null
    }
    const body = { imageId: image.id, imageDisplayName: image.displayName, imageType: 'custom' } satisfies PolicyImagePatch
    await settleWrite({
      what: `Pointing policy ${listed.id} at the image`,
      logger,
      write: async () => void (await client.request({ method: 'PATCH', path, body })),
      check: async () => {
        const now = await readPolicy(client, listed.id)
        return needsUpdate(now, image.id) ? { kind: 'notDone' } : { kind: 'done', value: undefined }
      }
    })
    report.previousPolicyImages[listed.id] = previous
    return { ...base, result: 'updated' }
  } catch (error) {
    // One policy's trouble does not stop the others; a cancellation stops the roll-out.
    if (error instanceof CancelledError) throw error
    return { ...base, result: 'failed', error: briefError(error) }
  }
}
