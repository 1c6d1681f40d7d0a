// Reads of Cloud PCs: a policy's list costs one request per page whatever the number of Cloud PCs,
// so the roll-out reads by policy and fetches one by one only what no list holds.

import { GraphError } from './errors.js'
import type { GraphClient } from './graph-client.js'
import type { CloudPc } from './graph-types.js'

export const CLOUD_PCS_PATH = '/deviceManagement/virtualEndpoint/cloudPCs'
export const CLOUD_PC_SELECT =
  '$select=id,displayName,userPrincipalName,provisioningPolicyId,status,provisionedDateTime,lastRemoteActionResult'

export const idKey = (id: string): string => id.toLowerCase()

export function cloudPcPath(id: string): string {
  return `${CLOUD_PCS_PATH}/${encodeURIComponent(id)}`
}

/** Every Cloud PC of a policy, all pages. */
export function listPolicyCloudPcs(client: GraphClient, policyId: string, deadline?: number): Promise<CloudPc[]> {
  const filter = encodeURIComponent(`provisioningPolicyId eq '${policyId.replace(/'/g, "''")}'`)
  return client.list<CloudPc>(`${CLOUD_PCS_PATH}?$filter=${filter}&${CLOUD_PC_SELECT}`, deadline)
}

/** Every Cloud PC of each policy, in the order of the policies. */
export async function listPoliciesCloudPcs(
  client: GraphClient,
  policyIds: readonly string[],
  deadline?: number
): Promise<CloudPc[]> {
  const listed: CloudPc[] = []
  for (const id of policyIds) listed.push(...(await listPolicyCloudPcs(client, id, deadline)))
  return listed
}

/**
 * The Cloud PCs `wanted` as they are now: each of their policies listed once, then a GET for any
 * that no list holds (its policy changed, or it has none). `null`: it no longer exists.
 */
export async function readCloudPcs(
  client: GraphClient,
  wanted: readonly CloudPc[],
  deadline?: number
): Promise<Map<string, CloudPc | null>> {
  const wantedKeys = new Set(wanted.map(pc => idKey(pc.id)))
  const found = new Map<string, CloudPc | null>()
  const policies = [...new Set(wanted.map(pc => pc.provisioningPolicyId).filter((id): id is string => !!id))]
  for (const pc of await listPoliciesCloudPcs(client, policies, deadline))
    if (wantedKeys.has(idKey(pc.id))) found.set(idKey(pc.id), pc)
  for (const pc of wanted) {
    if (found.has(idKey(pc.id))) continue
    try {
      const response = await client.get<CloudPc>(`${cloudPcPath(pc.id)}?${CLOUD_PC_SELECT}`, deadline)
      found.set(idKey(pc.id), response.body ?? null)
    } catch (error) {
      if (error instanceof GraphError && error.status === 404) found.set(idKey(pc.id), null)
      else throw error
    }
  }
  return found
}
