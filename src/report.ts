// What the run learned, gathered as it goes, so outputs and the summary can be written at any exit.

import type { ErrorCodeInfo } from './error-codes.js'
import type { DeviceImage } from './graph-types.js'

export type PublishResult = 'created' | 'reused' | 'updated' | 'replaced' | 'planned'

export type Outcome = 'ready' | 'warning' | 'submitted' | 'planned' | 'failed' | 'timedOut' | 'cancelled'

export interface TimelineEvent {
  at: number
  /** A status the image was seen in, or an action the run took. */
  label: string
  kind: 'status' | 'action'
}

export interface PolicyResult {
  id: string
  displayName: string
  result: 'updated' | 'skipped' | 'failed' | 'would update' | 'would skip'
  error?: string
}

export interface CloudPcResult {
  id: string
  displayName: string
  userPrincipalName: string
  result: 'pending' | 'reprovisioned' | 'failed' | 'cancelled' | 'would reprovision'
  error?: string
}

export interface RetentionEntry {
  id: string
  displayName: string
  version: string
  status: string
  outcome: 'kept' | 'deleted' | 'not deleted' | 'would delete'
  /** Deleted (or to be deleted) before the create, to make room in a full tenant. */
  toMakeRoom: boolean
  /** Kept because a provisioning policy uses it, the one reason a due deletion is held back. */
  inUse: boolean
  why: string
}

export interface RetentionReport {
  keepVersions: number
  entries: RetentionEntry[]
  /** Retention ran after the publish (or was planned, in a dry run). */
  ran: boolean
  /** Why it did not run after the publish. */
  notRun?: string
}

export interface Failure {
  title: string
  message: string
  /** Set when the service said why the upload failed; its remedy is shown apart in the summary. */
  errorCode?: ErrorCodeInfo
}

export interface RunReport {
  startedAt: number
  endedAt?: number
  displayName?: string
  version?: string
  sourceImageResourceId?: string
  image?: DeviceImage
  result?: PublishResult
  outcome?: Outcome
  uploadRetries: number
  timeline: TimelineEvent[]
  plan: string[]
  policies?: PolicyResult[]
  cloudPcs?: CloudPcResult[]
  updatedPolicyIds: string[]
  reprovisionedCloudPcIds: string[]
  /** Set when keepVersions is. */
  retention?: RetentionReport
  deletedImageIds: string[]
  failure?: Failure
  /** Warnings about a usable image: its OS support state or its expiry. */
  imageWarnings: string[]
  inputErrors: { input: string; message: string }[]
}

export function newReport(now: number): RunReport {
  return {
    startedAt: now,
    uploadRetries: 0,
    timeline: [],
    plan: [],
    updatedPolicyIds: [],
    reprovisionedCloudPcIds: [],
    deletedImageIds: [],
    imageWarnings: [],
    inputErrors: []
  }
}
