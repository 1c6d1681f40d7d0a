import type { Knobs } from './types.js'

/**
 * Switches for behaviour Microsoft does not document (docs/graph-facts.md). Documented behaviour
 * is not a knob; each default here is an assumption unless its comment names a source.
 */
export const DEFAULT_KNOBS: Knobs = {
  createValidationError: { status: 400, code: 'BadRequest' },
  duplicateOnCreate: 'reject',
  duplicateError: { status: 409, code: 'Conflict' },
  // Documented: "Upload up to 20 of your own custom device images" (Windows 365 "Device images
  // overview", docs/graph-facts.md#image-cap). Lower it to play a tenant that is full sooner.
  imageCap: 20,
  // Assumption: the answer to a create past the cap is undocumented.
  imageCapError: { status: 400, code: 'BadRequest' },
  // Documented: an image a provisioning policy uses cannot be deleted ("Add device images",
  // docs/graph-facts.md#delete-in-use). Assumption: the HTTP status and code of that refusal are undocumented.
  deleteInUseError: { status: 409, code: 'Conflict' },
  // retryUpload is documented for images whose upload failed (docs/graph-facts.md#retry-upload), so the others are refused;
  // the refusal's status and code (400 BadRequest) are an assumption.
  retryOnNonFailed: 'reject',
  // Documented (docs/graph-facts.md#retry-upload); the other values play a service that lacks or refuses the action.
  retryUpload: 'working',
  // Assumption: what reupload does after its announced 2026-06-25 retirement is undocumented; this
  // answers as for an action the service no longer knows (docs/graph-facts.md#unknown-segment).
  reupload: 'unknownSegment',
  // Assumption: nothing documents how soon reads show a retried upload (docs/graph-facts.md#read-lag); 0 = at once.
  staleReadsAfterRetryMs: 0,
  imagePatch: 405,
  // Assumption: the undocumented PATCH changes the record but starts no upload (docs/graph-facts.md#image-patch).
  imagePatchStartsUpload: false,
  mapEvolvableWithoutPrefer: true,
  echoPreferenceApplied: true,
  // Assumption: that Cloud PC lists honour $filter on provisioningPolicyId is not documented;
  // 'reject' refuses it, 'ignore' answers the unfiltered list (a buggy or hostile service).
  filter: 'support',
  imagePageSize: 2,
  cloudPcPageSize: 50,
  createResponseOsFields: 'null',
  // Windows 365 documents gallery sources (preview, docs/graph-facts.md#gallery-sources); that Graph's create accepts a gallery
  // image version ID is an assumption, as the Graph page shows only the managed-image format.
  galleryImageIds: 'accept',
  policyPatchUnknownImage: 'reject',
  reprovisionMs: 100,
  // Documented: "A Cloud PC must have a status of Failed or Provisioned" to be reprovisioned
  // (docs/graph-facts.md#reprovision-eligibility), so provisioned, provisionedWithWarnings and failed are eligible and the rest refused.
  // Assumption: the answer to a reprovision of another status is undocumented; 'ignore' answers 204
  // and changes nothing.
  reprovisionIneligible: 'reject',
  reprovisionIneligibleError: { status: 400, code: 'BadRequest' },
  // Assumption: nothing documents how soon reads show a reprovision; community tools report status
  // flip-flop from API lag on Cloud PC reads (docs/graph-facts.md#read-lag). 0 = at once.
  reprovisionVisibleAfterMs: 0,
  // Assumption: beta cloudPC declares lastRemoteActionResult (docs/graph-facts.md#remote-action-result), but nothing documents that
  // the service fills it for a reprovision; 'absent' leaves only status and provisionedDateTime.
  reprovisionRemoteActionResult: 'shown',
  errorCodeCasing: 'camel',
  vmAlreadyAzureAdjoinedSpelling: 'metadata',
  writeBudget: null,
  // Assumption: the emulator's scenarios publish from IDs no test seeds; serving them as passing
  // images keeps them passing. 'notFound' answers them as ARM answers a resource that does not exist.
  armUnknownResources: 'passing',
  // Documented: reading a resource needs a role that grants its read action, Reader being enough
  // (docs/graph-facts.md#arm-source-image); without one ARM answers 403
  // AuthorizationFailed, and a token from a tenant the subscription is not in gets 401
  // InvalidAuthenticationTokenTenant ("Troubleshoot common Azure deployment errors"). Assumption:
  // the message texts follow what ARM sends today, which no contract fixes.
  armAccess: 'granted'
}
