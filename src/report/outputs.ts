// The step's outputs, set from the report whenever they are known (on failure too). Total: a value
// that cannot be written as it is (nested too deep, circular, too long) is cut down or left out
// with a note, and one output that fails never keeps the others back.

import { parseImageStatus, withoutODataKeys } from '../graph/model.js'
import { cloudPcIdsIn, type RunReport } from './run-report.js'
import { clip, errorText, type JsonLimits, jsonText, textOf } from '../core/untrusted-text.js'

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

/** Largest output, in UTF-8 bytes: GitHub keeps 1 MB of outputs per job, and the ID lists must fit beside the image. */
export const OUTPUT_LIMIT_BYTES = 256 * 1024
/** A status, a code, a build number are a few words: anything longer is foreign text cut down. */
const SCALAR_OUTPUT_LIMIT = 1_000
/** Tried in turn for a JSON output until it fits in OUTPUT_LIMIT_BYTES; an image is a couple of levels deep. */
const JSON_LIMITS: readonly JsonLimits[] = [
  { depth: 32, string: 10_000, values: 50_000 },
  { depth: 8, string: 200, values: 2_000 }
]

/** The outputs to set; what had to be cut or left out is added to `notes`, for the log. */
export function outputsOf(report: RunReport, notes: string[] = []): Partial<Record<OutputName, string>> {
  const out: Partial<Record<OutputName, string>> = {}
  const set = (name: OutputName, value: () => string | undefined): void => {
    try {
      const text = value()
      if (text !== undefined) out[name] = text
    } catch (error) {
      notes.push(`The ${name} output was not set: ${errorText(error)}.`)
    }
  }
  const json = (name: OutputName, value: () => unknown) => set(name, () => jsonOutput(name, value(), notes))
  const scalar = (name: OutputName, value: () => unknown) => set(name, () => scalarOutput(name, value(), notes))

  json('updatedPolicyIds', () => report.updatedPolicyIds)
  json('previousPolicyImages', () => report.previousPolicyImages)
  // Which outcome goes to which output is CLOUD_PC_OUTCOMES' to say.
  json('reprovisionedCloudPcIds', () => cloudPcIdsIn(report, 'reprovisioned'))
  json('reprovisionFailedCloudPcIds', () => cloudPcIdsIn(report, 'failed'))
  json('reprovisionSkippedCloudPcIds', () => cloudPcIdsIn(report, 'skipped'))
  json('deletedImageIds', () => report.deletedImageIds)
  if (report.result) scalar('result', () => report.result)
  const image = report.image
  if (!image) return out
  scalar('imageId', () => image.id)
  scalar('status', () => image.status)
  scalar('errorCode', () => (parseImageStatus(image.status) === 'failed' ? image.errorCode : ''))
  if (report.result !== 'planned') scalar('uploadAttempts', () => 1 + report.uploadRetries)
  scalar('operatingSystem', () => image.operatingSystem)
  scalar('osBuildNumber', () => image.osBuildNumber)
  scalar('osVersionNumber', () => image.osVersionNumber)
  scalar('osStatus', () => image.osStatus)
  scalar('sizeInGB', () => image.sizeInGB)
  scalar('expirationDate', () => image.expirationDate)
  json('image', () => withoutODataKeys(image))
  return out
}

function jsonOutput(name: OutputName, value: unknown, notes: string[]): string | undefined {
  for (const limits of JSON_LIMITS) {
    const { text, cuts } = jsonText(value, limits)
    if (Buffer.byteLength(text) > OUTPUT_LIMIT_BYTES) continue
    if (cuts.length > 0) notes.push(`The ${name} output was cut: it had ${cuts.join(', ')}.`)
    return text
  }
  notes.push(`The ${name} output was not set: it is over ${OUTPUT_LIMIT_BYTES} bytes even cut down.`)
  return undefined
}

function scalarOutput(name: OutputName, value: unknown, notes: string[]): string {
  if (value === null || value === undefined) return ''
  const text = typeof value === 'object' ? jsonText(value, JSON_LIMITS[JSON_LIMITS.length - 1]).text : textOf(value)
  if (text.length > SCALAR_OUTPUT_LIMIT) notes.push(`The ${name} output was cut to ${SCALAR_OUTPUT_LIMIT} characters.`)
  return clip(text, SCALAR_OUTPUT_LIMIT)
}
