// Reads of Cloud PCs: a policy's list costs one request per page whatever the number of Cloud PCs,
// so the roll-out reads by policy and fetches one by one only what no list holds.

import { isNotFound } from '../core/errors.js'
import type { GraphClient } from './client.js'
import { checkList, checkRead } from './answer-checks.js'
import { canonicalId, type CloudPc, sameId } from './model.js'
import type { Logger } from '../core/logger.js'

export const CLOUD_PCS_PATH = '/deviceManagement/virtualEndpoint/cloudPCs'
export const CLOUD_PC_SELECT =
  '$select=id,displayName,userPrincipalName,provisioningPolicyId,status,provisionedDateTime,lastRemoteActionResult'

/** The key Cloud PCs are told apart by: their ID in its canonical form. */
export const idKey = canonicalId

export function cloudPcPath(id: string): string {
  return `${CLOUD_PCS_PATH}/${encodeURIComponent(id)}`
}

/**
 * Every Cloud PC of a policy, all pages. A Cloud PC the list holds that names another policy (a list
 * that ignored the filter, or a next page of another list) is dropped with a warning, never acted on.
 */
export async function listPolicyCloudPcs(
  client: GraphClient,
  policyId: string,
  logger: Logger,
  deadline?: number
): Promise<CloudPc[]> {
  const filter = encodeURIComponent(`provisioningPolicyId eq '${policyId.replace(/'/g, "''")}'`)
  const path = `${CLOUD_PCS_PATH}?$filter=${filter}&${CLOUD_PC_SELECT}`
  const listed = checkList<CloudPc>('cloudPC', await client.list<unknown>(path, deadline), `GET ${CLOUD_PCS_PATH}`)
  const own = listed.filter(pc => sameId(pc.provisioningPolicyId, policyId))
  const foreign = listed.length - own.length
  if (foreign > 0)
    logger.warning(
      `The list of the Cloud PCs of policy ${policyId} held ${foreign} Cloud PC${foreign === 1 ? '' : 's'} of other policies or of none; they were left out and are not touched.`,
      { title: 'Cloud PCs of other policies left out' }
    )
  return own
}

/** Every Cloud PC of each policy, in the order of the policies. */
export async function listPoliciesCloudPcs(
  client: GraphClient,
  policyIds: readonly string[],
  logger: Logger,
  deadline?: number
): Promise<CloudPc[]> {
  const listed: CloudPc[] = []
  for (const id of policyIds) listed.push(...(await listPolicyCloudPcs(client, id, logger, deadline)))
  return listed
}

/**
 * The Cloud PCs `wanted` as they are now: each of their policies listed once, then a GET for any
 * that no list holds (its policy changed, or it has none). `null`: it no longer exists.
 */
export async function readCloudPcs(
  client: GraphClient,
  wanted: readonly CloudPc[],
  logger: Logger,
  deadline?: number
): Promise<Map<string, CloudPc | null>> {
  const wantedKeys = new Set(wanted.map(pc => idKey(pc.id)))
  const found = new Map<string, CloudPc | null>()
  const policies = [...new Set(wanted.map(pc => pc.provisioningPolicyId).filter((id): id is string => !!id))]
  for (const pc of await listPoliciesCloudPcs(client, policies, logger, deadline))
    if (wantedKeys.has(idKey(pc.id))) found.set(idKey(pc.id), pc)
  for (const pc of wanted) {
    if (found.has(idKey(pc.id))) continue
    try {
      found.set(idKey(pc.id), await readCloudPc(client, pc.id, deadline))
    } catch (error) {
      if (isNotFound(error)) found.set(idKey(pc.id), null)
      else throw error
    }
  }
  return found
}

/** The Cloud PC `id` as it is now, checked to be that one. */
export async function readCloudPc(client: GraphClient, id: string, deadline?: number): Promise<CloudPc> {
  const path = `${cloudPcPath(id)}?${CLOUD_PC_SELECT}`
  return checkRead<CloudPc>('cloudPC', (await client.get<unknown>(path, deadline)).body, id, `GET ${cloudPcPath(id)}`)
}
