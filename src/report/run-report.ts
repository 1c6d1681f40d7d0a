// What the run learned, gathered as it goes, so outputs and the summary can be written at any exit.

import type { ErrorCodeInfo } from '../publish/error-codes.js'
import type { DeviceImage } from '../graph/model.js'
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
 * What each means to outputs, counts and the summary is in CLOUD_PC_OUTCOMES.
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
  /** The roll-out ended (cancelled, or stopped by an error) before its request was sent. */
  | 'notStarted'
  /** The run was cancelled with the request in flight, or the rebuild not seen finished. */
  | 'cancelled'
  /** An error stopped the roll-out with the rebuild not seen finished; it goes on in the service. */
  | 'stopped'
  | 'would reprovision'
  | 'would skip'

/** The ID output that lists a Cloud PC; `none`: the error and the summary name it instead. */
export type CloudPcOutput = 'reprovisioned' | 'failed' | 'skipped' | 'none'

/**
 * What an outcome means wherever it is shown. `open`: the wave run is still at it, and every exit
 * of the run turns it into a final one; `planned`: a dry run's. Neither is in an output.
 */
export type OutcomeMeaning =
  | { stage: 'final'; output: CloudPcOutput; words: string; rank: number }
  | { stage: 'open' | 'planned'; output: 'none'; words: string; rank: number }

/**
 * Each outcome's words (a count reads "3 <words>"), output, stage, and rank (the summary lists
 * lower ranks first: problems before the rest). Declared in the order counts are written.
 */
export const CLOUD_PC_OUTCOMES = {
  reprovisioned: { stage: 'final', output: 'reprovisioned', words: 'reprovisioned (seen provisioned again)', rank: 6 },
  accepted: {
    stage: 'final',
    output: 'reprovisioned',
    words: 'accepted, not observed (reprovisionTimeoutMinutes: 0)',
    rank: 6
  },
  failed: { stage: 'final', output: 'failed', words: 'failed', rank: 0 },
  timedOut: { stage: 'final', output: 'failed', words: 'not seen finished in time', rank: 1 },
  cancelled: { stage: 'final', output: 'none', words: 'requested, not seen finished', rank: 2 },
  stopped: { stage: 'final', output: 'none', words: 'requested, not seen finished (the roll-out stopped)', rank: 2 },
  withheld: { stage: 'final', output: 'skipped', words: 'withheld', rank: 4 },
  notStarted: { stage: 'final', output: 'skipped', words: 'not started', rank: 5 },
  skipped: { stage: 'final', output: 'skipped', words: 'skipped', rank: 6 },
  pending: { stage: 'open', output: 'none', words: 'waiting for their wave', rank: 6 },
  requested: { stage: 'open', output: 'none', words: 'rebuilding', rank: 6 },
  unconfirmed: { stage: 'open', output: 'none', words: 'answer lost, not seen to start yet', rank: 3 },
  'would reprovision': { stage: 'planned', output: 'none', words: 'would reprovision', rank: 6 },
  'would skip': { stage: 'planned', output: 'none', words: 'would skip', rank: 6 }
} as const satisfies Record<CloudPcOutcome, OutcomeMeaning>

/** The outcomes the run's record ends with. */
export type FinalOutcome = {
  [K in CloudPcOutcome]: (typeof CLOUD_PC_OUTCOMES)[K]['stage'] extends 'final' ? K : never
}[CloudPcOutcome]

/** "1 reprovisioned (seen provisioned again), 2 failed": the outcomes of `results` counted; a zero is left out, except for reprovisioned. */
export function outcomeCounts(results: readonly CloudPcOutcome[]): string {
  const counts = new Map<CloudPcOutcome, number>()
  for (const result of results) counts.set(result, (counts.get(result) ?? 0) + 1)
  return (Object.keys(CLOUD_PC_OUTCOMES) as CloudPcOutcome[])
    .filter(outcome => outcome === 'reprovisioned' || counts.has(outcome))
    .map(outcome => `${counts.get(outcome) ?? 0} ${CLOUD_PC_OUTCOMES[outcome].words}`)
    .join(', ')
}

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
  /** `stopped`: an error ended the roll-out while this wave ran. */
  outcome: 'planned' | 'pending' | 'running' | 'finished' | 'accepted' | 'timedOut' | 'withheld' | 'cancelled' | 'stopped'
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

/** The Cloud PCs an ID output lists, in the order they were listed. */
export function cloudPcIdsIn(report: RunReport, output: Exclude<CloudPcOutput, 'none'>): string[] {
  return (report.cloudPcs ?? []).filter(pc => CLOUD_PC_OUTCOMES[pc.result].output === output).map(pc => pc.id)
}
