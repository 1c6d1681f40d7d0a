import type { Knobs } from './types.js'

/** Choices for behaviour Graph does not document (graph-api.md §13); none of them is a fact. */
export const DEFAULT_KNOBS: Knobs = {
  createValidationError: { status: 400, code: 'BadRequest' },
  duplicateOnCreate: 'reject',
  duplicateError: { status: 409, code: 'Conflict' },
  imageCap: 20,
  imageCapError: { status: 400, code: 'BadRequest' },
  deleteInUseError: { status: 409, code: 'Conflict' },
  retryOnNonFailed: 'reject',
  retryUpload: 'working',
  reupload: 404,
  imagePatch: 405,
  mapEvolvableWithoutPrefer: true,
  echoPreferenceApplied: true,
  filter: 'support',
  imagePageSize: 2,
  cloudPcPageSize: 50,
  createResponseOsFields: 'null',
  galleryImageIds: 'reject',
  policyPatchUnknownImage: 'reject',
  reprovisionMs: 100,
  errorCodeCasing: 'camel',
  vmAlreadyAzureAdjoinedSpelling: 'metadata',
  writeBudget: null
}
