// The step's outputs, set from the report whenever they are known (on failure too).

import { parseImageStatus, withoutODataKeys } from './graph-types.js'
import { cloudPcIdsWith, type RunReport } from './report.js'

export const OUTPUT_NAMES = [
  'imageId',
  'status',
  'errorCode',
  'result',
  'uploadAttempts',
  'operatingSystem',
  'osBuildNumber',
  'osVersionNumber',
  'osStatus',
  'sizeInGB',
  'expirationDate',
  'image',
  'updatedPolicyIds',
  'previousPolicyImages',
  'reprovisionedCloudPcIds',
  'reprovisionFailedCloudPcIds',
  'reprovisionSkippedCloudPcIds',
  'deletedImageIds'
] as const
export type OutputName = (typeof OUTPUT_NAMES)[number]

export function outputsOf(report: RunReport): Partial<Record<OutputName, string>> {
  const out: Partial<Record<OutputName, string>> = {
    updatedPolicyIds: JSON.stringify(report.updatedPolicyIds),
    previousPolicyImages: JSON.stringify(report.previousPolicyImages),
    // Seen provisioned again; `accepted` only when the run was told not to wait (reprovisionTimeoutMinutes: 0).
    reprovisionedCloudPcIds: JSON.stringify(cloudPcIdsWith(report, 'reprovisioned', 'accepted')),
    reprovisionFailedCloudPcIds: JSON.stringify(cloudPcIdsWith(report, 'failed', 'timedOut')),
    reprovisionSkippedCloudPcIds: JSON.stringify(cloudPcIdsWith(report, 'skipped', 'withheld', 'notStarted')),
    deletedImageIds: JSON.stringify(report.deletedImageIds)
  }
  if (report.result) out.result = report.result
  const image = report.image
  if (!image) return out
  out.imageId = image.id
  out.status = text(image.status)
  out.errorCode = parseImageStatus(image.status) === 'failed' ? text(image.errorCode) : ''
  if (report.result !== 'planned') out.uploadAttempts = String(1 + report.uploadRetries)
  out.operatingSystem = text(image.operatingSystem)
  out.osBuildNumber = text(image.osBuildNumber)
  out.osVersionNumber = text(image.osVersionNumber)
  out.osStatus = text(image.osStatus)
  out.sizeInGB = text(image.sizeInGB)
  out.expirationDate = text(image.expirationDate)
  out.image = JSON.stringify(withoutODataKeys(image))
  return out
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value)
}
