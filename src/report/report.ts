// What the run learned, gathered as it goes, so outputs and the summary can be written at any exit.

import type { ErrorCodeInfo } from '../publish/error-codes.js'
import type { DeviceImage } from '../graph/graph-types.js'
import type { PreflightMode } from '../inputs.js'
import type { SourceCheck } from '../preflight/source-checks.js'

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

/**
 * Where a Cloud PC's reprovision stands. Only `reprovisioned` says the rebuild was seen finished;
 * `accepted` is a request the service took without the run waiting (reprovisionTimeoutMinutes: 0).
 */
export type CloudPcOutcome =
  /** In a wave that has not started. */
  | 'pending'
  /** The request was accepted; the rebuild is not seen finished yet. */
  | 'requested'
  /** The request's answer was lost and no read has shown the rebuild start yet. */
  | 'unconfirmed'
  | 'reprovisioned'
  | 'accepted'
  /** Refused, seen failed, or not seen to start after a lost answer. */
  | 'failed'
  /** Not seen finished within reprovisionTimeoutMinutes; the rebuild goes on in the service. */
  | 'timedOut'
  /** Excluded, or in a status the service does not reprovision from. */
  | 'skipped'
  /** In a wave held back after failures or a time-out. */
  | 'withheld'
  /** The run was cancelled before its request was sent. */
  | 'notStarted'
  /** The run was cancelled with the request in flight, or the rebuild not seen finished. */
  | 'cancelled'
  | 'would reprovision'
  | 'would skip'

export interface CloudPcResult {
  id: string
  displayName: string
  userPrincipalName: string
  /** The status listed before the roll-out touched it. */
  status: string
  /** 1-based; unset for a Cloud PC in no wave (skipped). */
  wave?: number
  result: CloudPcOutcome
  /** Why it was skipped, or what went wrong. */
  error?: string
}

export interface WaveReport {
  number: number
  /** The cumulative target it reaches, as written in reprovisionWaves (`100%` for the rest). */
  target: string
  size: number
  startedAt?: number
  endedAt?: number
  outcome: 'planned' | 'pending' | 'running' | 'finished' | 'accepted' | 'timedOut' | 'withheld' | 'cancelled'
}

/** A policy's image before the roll-out changed it, so a later step can point it back. */
export interface PreviousPolicyImage {
  imageId: string | null
  imageDisplayName: string | null
  imageType: string | null
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

export interface PreflightReport {
  mode: PreflightMode
  /** The checks that ran, in order; none when they could not run. */
  checks: SourceCheck[]
  /** Why the checks did not run, and what would let them. */
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
  /** Which Intune admin center the summary links to. */
  cloud?: 'global' | 'usgov'
  displayName?: string
  version?: string
  sourceImageResourceId?: string
  /** Unset with preflight: false. */
  preflight?: PreflightReport
  image?: DeviceImage
  result?: PublishResult
  outcome?: Outcome
  uploadRetries: number
  timeline: TimelineEvent[]
  plan: string[]
  policies?: PolicyResult[]
  cloudPcs?: CloudPcResult[]
  waves?: WaveReport[]
  updatedPolicyIds: string[]
  previousPolicyImages: Record<string, PreviousPolicyImage>
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
    previousPolicyImages: {},
    deletedImageIds: [],
    imageWarnings: [],
    inputErrors: []
  }
}

/** The Cloud PCs whose outcome is one of `outcomes`, in the order they were listed. */
export function cloudPcIdsWith(report: RunReport, ...outcomes: CloudPcOutcome[]): string[] {
  return (report.cloudPcs ?? []).filter(pc => outcomes.includes(pc.result)).map(pc => pc.id)
}
