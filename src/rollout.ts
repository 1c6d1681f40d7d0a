// Points provisioning policies at the ready image and reprovisions their Cloud PCs. Reprovisioning
// erases a Cloud PC's local data, so it happens only on request, to exactly the listed machines,
// and only for policies that now use the image.

import type { Clock } from './clock.js'
import { ActionError, CancelledError, GraphError, messageOf } from './errors.js'
import type { GraphClient } from './graph-client.js'
import type { DeviceImage, PolicyImagePatch } from './graph-types.js'
import { POLICIES_PATH, type ProvisioningPolicy, usesImage } from './images.js'
import type { Settings } from './inputs.js'
import type { Logger } from './logger.js'
import type { CloudPcResult, PolicyResult, RunReport } from './report.js'
import { settleWrite } from './settle.js'

const CLOUD_PCS_PATH = '/deviceManagement/virtualEndpoint/cloudPCs'
const CLOUD_PC_SELECT = '$select=id,displayName,userPrincipalName,provisioningPolicyId,status,lastRemoteActionResult'
const REPROVISION_CONCURRENCY = 8
const MAX_NAMED = 20

export interface RemoteActionResult {
  actionName?: string | null
  actionState?: string | null
  startDateTime?: string | null
}

export interface CloudPc {
  id: string
  displayName?: string | null
  userPrincipalName?: string | null
  provisioningPolicyId?: string | null
  status?: string | null
  lastRemoteActionResult?: RemoteActionResult | null
}

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
export async function checkRolloutTargets(client: GraphClient, settings: Settings): Promise<RolloutTargets> {
  const policies = await getAll<ProvisioningPolicy>(
    client,
    POLICIES_PATH,
    settings.provisioningPolicyIds,
    'provisioningPolicyIds',
    'provisioning policy'
  )
  if (!settings.reprovision) return { policies, extraCloudPcs: [], cloudPcs: [] }
  const extraCloudPcs = await getAll<CloudPc>(
    client,
    CLOUD_PCS_PATH,
    settings.cloudPcIds,
    'cloudPcIds',
    'Cloud PC',
    CLOUD_PC_SELECT
  )
  const cloudPcs = await collectCloudPcs(
    client,
    policies.map(p => p.id),
    extraCloudPcs
  )
  return { policies, extraCloudPcs, cloudPcs }
}

/**
 * A reprovision request whose answer was lost took effect when the Cloud PC's last remote action is
 * a reprovision that started after the one seen before the request (the service's timestamps
 * compared with each other, not with the runner's clock).
 */
export function reprovisionStarted(before: RemoteActionResult | null | undefined, after: CloudPc | undefined): boolean {
  const action = after?.lastRemoteActionResult
  if (String(action?.actionName ?? '').toLowerCase() !== 'reprovision') return false
  const started = Date.parse(action?.startDateTime ?? '')
  if (Number.isNaN(started)) return false
  if (String(before?.actionName ?? '').toLowerCase() !== 'reprovision') return true
  return !(started <= Date.parse(before?.startDateTime ?? ''))
}

async function getAll<T>(
  client: GraphClient,
  path: string,
  ids: string[],
  input: string,
  what: string,
  query = ''
): Promise<T[]> {
  const found: T[] = []
  const unknown: string[] = []
  for (const id of ids) {
    try {
      const response = await client.get<T>(`${path}/${encodeURIComponent(id)}${query ? `?${query}` : ''}`)
      if (response.body) found.push(response.body)
    } catch (error) {
      if (error instanceof GraphError && error.status === 404) unknown.push(id)
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

/** Cloud PCs of the policies (every page) plus the extra ones, each once. */
async function collectCloudPcs(client: GraphClient, policyIds: string[], extra: CloudPc[]): Promise<CloudPc[]> {
  const lists: CloudPc[][] = []
  for (const id of policyIds) {
    const filter = encodeURIComponent(`provisioningPolicyId eq '${id.replace(/'/g, "''")}'`)
    lists.push(await client.list<CloudPc>(`${CLOUD_PCS_PATH}?$filter=${filter}&${CLOUD_PC_SELECT}`))
  }
  return uniqueById([...lists.flat(), ...extra])
}

function uniqueById<T extends { id: string }>(items: T[]): T[] {
  const seen = new Set<string>()
  return items.filter(item => !seen.has(item.id.toLowerCase()) && seen.add(item.id.toLowerCase()))
}

/** A policy that already uses the image as a custom image is left alone. */
function needsUpdate(policy: ProvisioningPolicy, imageId: string): boolean {
  return !(usesImage(policy, imageId) && String(policy.imageType ?? '').toLowerCase() === 'custom')
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
  if (!settings.reprovision) return
  const pcs = targets.cloudPcs
  report.cloudPcs = pcs.map(pc => ({ ...describePc(pc), result: 'would reprovision' }))
  logger.info(`Would reprovision ${pcs.length} Cloud PC${pcs.length === 1 ? '' : 's'}, erasing their local data:`)
  for (const pc of report.cloudPcs) logger.info(`  ${pc.id}  ${pc.displayName || '—'}  ${pc.userPrincipalName || '—'}`)
  report.plan.push(
    ...report.policies.map(p => `Policy "${p.displayName}" (${p.id}): ${p.result}.`),
    `Reprovision ${pcs.length} Cloud PC${pcs.length === 1 ? '' : 's'}.`
  )
}

export interface RolloutDeps {
  client: GraphClient
  clock: Clock
  logger: Logger
  signal?: AbortSignal
  concurrency?: number
}

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
    const result = await updatePolicy(client, policy, image, logger)
    report.policies.push(result)
    if (result.result === 'updated' || result.result === 'skipped') report.updatedPolicyIds.push(result.id)
    logger.info(`Policy "${result.displayName}" (${result.id}): ${result.result}${result.error ? ` (${result.error})` : ''}.`)
  }

  if (settings.reprovision) {
    // Only Cloud PCs of policies that now use the image: the others would be rebuilt from the old one.
    const pcs = await collectCloudPcs(client, report.updatedPolicyIds, targets.extraCloudPcs)
    report.cloudPcs = pcs.map(pc => ({ ...describePc(pc), result: 'pending' }))
    logger.info(
      `Reprovisioning ${pcs.length} Cloud PC${pcs.length === 1 ? '' : 's'} (${deps.concurrency ?? REPROVISION_CONCURRENCY} at a time).`
    )
    await reprovisionAll(client, pcs, report.cloudPcs, deps, done => {
      if (done === pcs.length || done % Math.max(1, Math.ceil(pcs.length / 10)) === 0) {
        const failed = report.cloudPcs!.filter(pc => pc.result === 'failed').length
        logger.info(`Reprovision: ${done} of ${pcs.length} answered (${done - failed} accepted, ${failed} failed).`)
      }
    })
    report.reprovisionedCloudPcIds = report.cloudPcs.filter(pc => pc.result === 'reprovisioned').map(pc => pc.id)
    if (deps.signal?.aborted) {
      const count = (result: CloudPcResult['result']) => report.cloudPcs!.filter(pc => pc.result === result).length
      report.failure = {
        title: 'Cancelled',
        message: `The run was cancelled during the roll-out. Image ${image.id} is ready and ${report.updatedPolicyIds.length} of ${report.policies.length} policies use it; ${count('reprovisioned')} Cloud PC reprovisions were accepted, ${count('failed')} failed and ${count('cancelled')} were cancelled (see the job summary: one in flight may have started). Run again to reprovision the rest.`
      }
      throw new CancelledError()
    }
  }

  const failedPolicies = report.policies.filter(p => p.result === 'failed')
  const failedPcs = (report.cloudPcs ?? []).filter(pc => pc.result !== 'reprovisioned')
  const counts = `${report.updatedPolicyIds.length} of ${report.policies.length} policies use the image; ${report.reprovisionedCloudPcIds.length} Cloud PCs reprovisioned, ${failedPcs.length} failed`
  logger.info(`Roll-out: ${counts}.`)
  if (failedPolicies.length > 0 || failedPcs.length > 0) {
    const parts: string[] = []
    if (failedPolicies.length > 0)
      parts.push(
        `Policies not updated (their Cloud PCs were not reprovisioned): ${failedPolicies.map(p => `${p.id} (${p.error})`).join('; ')}.`
      )
    if (failedPcs.length > 0)
      parts.push(
        `Cloud PCs not reprovisioned: ${failedPcs
          .slice(0, MAX_NAMED)
          .map(pc => `${pc.id}${pc.displayName ? ` "${pc.displayName}"` : ''} (${pc.error ?? pc.result})`)
          .join('; ')}${failedPcs.length > MAX_NAMED ? `; and ${failedPcs.length - MAX_NAMED} more (see the job summary)` : ''}.`
      )
    throw new ActionError(
      'Roll-out incomplete',
      `The image is ready, but the roll-out did not complete: ${counts}. ${parts.join(' ')}`
    )
  }
}

/** Points the policy at the image; a lost answer is settled by reading the policy. */
async function updatePolicy(
  client: GraphClient,
  policy: ProvisioningPolicy,
  image: DeviceImage,
  logger: Logger
): Promise<PolicyResult> {
  const base = { id: policy.id, displayName: policy.displayName ?? '' }
  if (!needsUpdate(policy, image.id)) return { ...base, result: 'skipped' }
  const path = `${POLICIES_PATH}/${encodeURIComponent(policy.id)}`
  const body = { imageId: image.id, imageDisplayName: image.displayName, imageType: 'custom' } satisfies PolicyImagePatch
  try {
    await settleWrite({
      what: `Pointing policy ${policy.id} at the image`,
      logger,
      write: async () => void (await client.request({ method: 'PATCH', path, body })),
      check: async () => {
        const now = await client.get<ProvisioningPolicy>(path)
        return now.body && !needsUpdate(now.body, image.id) ? { kind: 'done', value: undefined } : { kind: 'notDone' }
      }
    })
    return { ...base, result: 'updated' }
  } catch (error) {
    // One policy's trouble does not stop the others; a cancellation stops the roll-out.
    if (error instanceof CancelledError) throw error
    return { ...base, result: 'failed', error: briefError(error) }
  }
}

async function reprovisionAll(
  client: GraphClient,
  listed: CloudPc[],
  pcs: CloudPcResult[],
  deps: RolloutDeps,
  onAnswer: (done: number) => void
): Promise<void> {
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < pcs.length && !deps.signal?.aborted) {
      const index = next++
      const pc = pcs[index]
      const path = `${CLOUD_PCS_PATH}/${encodeURIComponent(pc.id)}`
      try {
        await settleWrite({
          what: `Reprovisioning Cloud PC ${pc.id}`,
          logger: deps.logger,
          // Never sent twice: a reprovision erases the Cloud PC, and one whose answer was lost may have started.
          maxWrites: 1,
          write: async () => void (await client.request({ method: 'POST', path: `${path}/reprovision` })),
          check: async () => {
            const now = await client.get<CloudPc>(`${path}?${CLOUD_PC_SELECT}`)
            return reprovisionStarted(listed[index].lastRemoteActionResult, now.body)
              ? { kind: 'done', value: undefined }
              : { kind: 'notDone' }
          }
        })
        pc.result = 'reprovisioned'
      } catch (error) {
        if (error instanceof CancelledError) {
          pc.result = 'cancelled'
          pc.error = 'cancelled while the request was in flight: it may have started'
        } else {
          pc.result = 'failed'
          pc.error = briefError(error)
          deps.logger.info(`Cloud PC ${pc.id}${pc.displayName ? ` "${pc.displayName}"` : ''} was not reprovisioned: ${pc.error}`)
        }
      }
      onAnswer(++done)
    }
  }
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? REPROVISION_CONCURRENCY, pcs.length) }, worker))
  for (const pc of pcs)
    if (pc.result === 'pending') {
      pc.result = 'cancelled'
      pc.error = 'not started: the run was cancelled'
    }
}

function describePc(pc: CloudPc): Pick<CloudPcResult, 'id' | 'displayName' | 'userPrincipalName'> {
  return { id: pc.id, displayName: pc.displayName ?? '', userPrincipalName: pc.userPrincipalName ?? '' }
}

function briefError(error: unknown): string {
  if (error instanceof GraphError)
    return `${error.details.status} ${error.details.code}: ${error.details.message} (request-id ${error.details.requestId ?? 'none'})`
  return messageOf(error)
}
