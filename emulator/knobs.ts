import type { Knobs } from './types.js'

/**
 * Where a switch's default comes from: a fact Microsoft documents, with its anchor in
 * docs/graph-facts.md, or the emulator's assumption, with why it was chosen.
 */
export type KnobBasis = { kind: 'documented'; source: `docs/graph-facts.md#${string}` } | { kind: 'assumption'; why: string }

/**
 * The values a switch takes. Where its type lists them, each is named with what it plays (the type
 * makes the list complete); a number, an error choice or a budget is described in words.
 */
export type KnobValues<T> = [T] extends [string | number | boolean]
  ? number extends T
    ? string
    : Record<`${T}`, string>
  : string

export interface KnobSpec<T> {
  default: T
  values: KnobValues<T>
  basis: KnobBasis
  /** What the switch plays. */
  meaning: string
}

export type KnobTable = { readonly [K in keyof Knobs]: KnobSpec<Knobs[K]> }

const ERROR_CHOICE = 'any HTTP status with a Graph error code'
const MILLISECONDS = 'milliseconds, 0 or more'

/**
 * The emulator's switches, one row each. Where Microsoft documents a behaviour the emulator does
 * it, and a switch exists only to play a service that differs or to fill a gap; the basis says
 * which (rendered into docs/emulator.md by scripts/knobs-table.ts; __tests__/knobs.test.ts holds
 * every row to a basis).
 */
export const KNOBS: KnobTable = {
  createValidationError: {
    default: { status: 400, code: 'BadRequest' },
    values: ERROR_CHOICE,
    basis: {
      kind: 'assumption',
      why: "Microsoft lists no error for a create it refuses at once (docs/graph-facts.md#create-errors); 400 BadRequest is what Graph's error page gives for a malformed request."
    },
    meaning:
      "The answer to a create whose displayName or version is missing or empty, or whose sourceImageResourceId is neither a managed image ID nor (with galleryImageIds 'accept') a gallery image version ID."
  },
  duplicateOnCreate: {
    default: 'reject',
    values: { reject: 'answers duplicateError', allow: 'creates a second image with the same pair' },
    basis: {
      kind: 'assumption',
      why: 'The display name and version together identify an image (docs/graph-facts.md#image-identity), which a second image with the same pair would break; that the service refuses such a create is not stated.'
    },
    meaning:
      'A create whose display name (compared without regard to case) and version (compared exactly) an image in the tenant already has.'
  },
  duplicateError: {
    default: { status: 409, code: 'Conflict' },
    values: ERROR_CHOICE,
    basis: {
      kind: 'assumption',
      why: "The answer to a duplicate create is undocumented (docs/graph-facts.md#create-errors); 409 Conflict is what Graph's error page gives for a request that conflicts with the current state."
    },
    meaning: "The answer to a duplicate create when duplicateOnCreate is 'reject'."
  },
  imageCap: {
    default: 20,
    values: 'a count of images, 0 or more',
    basis: { kind: 'documented', source: 'docs/graph-facts.md#image-cap' },
    meaning:
      'How many images the tenant holds before a create is refused with imageCapError. Lower it to play a tenant that is full sooner.'
  },
  imageCapError: {
    default: { status: 400, code: 'BadRequest' },
    values: ERROR_CHOICE,
    basis: { kind: 'assumption', why: 'The answer to a create past the cap is undocumented (docs/graph-facts.md#image-cap).' },
    meaning: 'The answer to a create when the tenant already holds imageCap images.'
  },
  deleteInUseError: {
    default: { status: 409, code: 'Conflict' },
    values: ERROR_CHOICE,
    basis: {
      kind: 'assumption',
      why: 'That the delete is refused is documented (docs/graph-facts.md#delete-in-use); the HTTP status and code of the refusal are not.'
    },
    meaning: 'The answer to a delete of an image a provisioning policy uses.'
  },
  retryOnNonFailed: {
    default: 'reject',
    values: { reject: 'answers 400 BadRequest', accept: 'starts the upload again, as for a failed image' },
    basis: {
      kind: 'assumption',
      why: 'retryUpload is documented only for an image whose upload failed (docs/graph-facts.md#retry-upload), so the others are refused; the refusal itself, and its 400 BadRequest, are undocumented.'
    },
    meaning: 'A retryUpload or reupload of an image whose status is not failed.'
  },
  retryUpload: {
    default: 'working',
    values: {
      working: 'the documented action: 204, and the upload starts again',
      unknownSegment: 'a service that does not know the action: 400 "Resource not found for the segment"',
      405: 'a service that refuses the method'
    },
    basis: { kind: 'documented', source: 'docs/graph-facts.md#retry-upload' },
    meaning: 'How beta answers retryUpload. v1.0 never has it and always answers as for an unknown segment.'
  },
  reupload: {
    default: 'unknownSegment',
    values: {
      working: 'the action as before its retirement',
      unknownSegment: 'an action the service no longer knows: 400 "Resource not found for the segment"',
      retired400: '400 BadRequest saying the action is no longer supported',
      noop: '204 and nothing happens'
    },
    basis: {
      kind: 'assumption',
      why: 'What reupload does after its announced retirement (docs/graph-facts.md#reupload) is undocumented; the default answers as Graph answers an action it does not know (docs/graph-facts.md#unknown-segment).'
    },
    meaning: 'How beta answers the deprecated reupload.'
  },
  staleReadsAfterRetryMs: {
    default: 0,
    values: MILLISECONDS,
    basis: {
      kind: 'assumption',
      why: 'Nothing documents how soon reads show a retried upload (docs/graph-facts.md#read-lag); 0 shows it at once.'
    },
    meaning: 'How long after a retryUpload or reupload reads still show the image as it was before it.'
  },
  imagePatch: {
    default: 405,
    values: {
      405: 'the method is refused',
      400: '400 notAllowed',
      accept200: 'the record changes; 200 with the image',
      accept204: 'the record changes; 204'
    },
    basis: {
      kind: 'assumption',
      why: 'No update operation is published and every property is read-only (docs/graph-facts.md#image-patch), so the default plays a service without one.'
    },
    meaning: 'How PATCH of a device image is answered.'
  },
  imagePatchStartsUpload: {
    default: false,
    values: { false: 'the record changes and nothing else', true: 'a new sourceImageResourceId starts a new upload' },
    basis: {
      kind: 'assumption',
      why: 'Whether the undocumented PATCH starts an upload is unknown (docs/graph-facts.md#image-patch); the default assumes it does not.'
    },
    meaning: "What an accepted PATCH (imagePatch 'accept200' or 'accept204') that changes the source does."
  },
  mapEvolvableWithoutPrefer: {
    default: true,
    values: {
      true: 'the documented rule: later members read as unknownFutureValue',
      false: 'a service or proxy that shows them anyway'
    },
    basis: { kind: 'documented', source: 'docs/graph-facts.md#evolvable-enums' },
    meaning: 'Whether an enum member added after unknownFutureValue is hidden from a request without the Prefer header.'
  },
  echoPreferenceApplied: {
    default: true,
    values: { true: 'answers Preference-Applied', false: 'answers without it' },
    basis: {
      kind: 'assumption',
      why: 'Whether Graph echoes the preference is undocumented (docs/graph-facts.md#evolvable-enums); HTTP lets a server name the preferences it applied, and a client must not rely on either.'
    },
    meaning: 'Whether a request with Prefer: include-unknown-enum-members gets Preference-Applied back.'
  },
  filter: {
    default: 'support',
    values: {
      support: "eq and contains on an image's displayName, eq on a Cloud PC's provisioningPolicyId; any other filter is refused",
      reject: 'every $filter is refused',
      ignore: 'the whole collection whatever the filter: a buggy or hostile service, never documented'
    },
    basis: {
      kind: 'assumption',
      why: 'Which properties $filter accepts is undocumented (docs/graph-facts.md#filter); the default supports what community code uses.'
    },
    meaning: 'How the image and Cloud PC lists answer $filter.'
  },
  imagePageSize: {
    default: 2,
    values: 'a count of images per page, 1 or more',
    basis: {
      kind: 'assumption',
      why: 'The page size is undocumented (docs/graph-facts.md#paging); 2 is small so that every test with a few images also follows @odata.nextLink.'
    },
    meaning: 'How many images one page of the list holds.'
  },
  cloudPcPageSize: {
    default: 50,
    values: 'a count of Cloud PCs per page, 1 or more',
    basis: {
      kind: 'assumption',
      why: 'The page size is undocumented (docs/graph-facts.md#paging); 50 is the $top community code pages Cloud PCs with.'
    },
    meaning: 'How many Cloud PCs one page of the list holds.'
  },
  createResponseOsFields: {
    default: 'null',
    values: {
      null: 'operatingSystem, osBuildNumber, osStatus and expirationDate are null, as in the examples',
      filled: 'they are already filled in'
    },
    basis: { kind: 'documented', source: 'docs/graph-facts.md#create-response' },
    meaning: "What the create's answer shows of the fields the service fills in once it has validated the image."
  },
  galleryImageIds: {
    default: 'accept',
    values: { accept: 'a create may name a gallery image version', reject: 'only a managed image ID passes validation' },
    basis: {
      kind: 'assumption',
      why: "Windows 365 documents gallery sources, in preview (docs/graph-facts.md#gallery-sources); that Graph's create accepts a gallery image version ID is not documented, as its page shows only the managed-image format."
    },
    meaning: 'Whether a create with an Azure Compute Gallery image version ID passes validation.'
  },
  policyPatchUnknownImage: {
    default: 'reject',
    values: { reject: 'answers 400 BadRequest', accept: 'points the policy at it anyway' },
    basis: {
      kind: 'assumption',
      why: 'Whether a policy may be pointed at an image the tenant does not have is undocumented (docs/graph-facts.md#policy-image-fields); refusing is the stricter service to test against.'
    },
    meaning: 'A provisioning-policy PATCH to a custom imageId no image of the tenant has.'
  },
  reprovisionMs: {
    default: 100,
    values: MILLISECONDS,
    basis: {
      kind: 'assumption',
      why: 'No duration is documented (docs/graph-facts.md#reprovision-duration), and community tooling reports 30 to 60 minutes; 100 ms keeps tests quick, and a test sets what it needs.'
    },
    meaning: 'How long an accepted reprovision runs before the Cloud PC is provisioned again.'
  },
  reprovisionIneligible: {
    default: 'reject',
    values: { reject: 'answers reprovisionIneligibleError', ignore: 'answers 204 and changes nothing' },
    basis: { kind: 'documented', source: 'docs/graph-facts.md#reprovision-eligibility' },
    meaning:
      'A reprovision of a Cloud PC whose status is not provisioned, provisionedWithWarnings or failed: only those may be reprovisioned.'
  },
  reprovisionIneligibleError: {
    default: { status: 400, code: 'BadRequest' },
    values: ERROR_CHOICE,
    basis: {
      kind: 'assumption',
      why: "The answer to a reprovision of an ineligible Cloud PC is undocumented (docs/graph-facts.md#reprovision-eligibility); 400 BadRequest is what Graph's error page gives for an incorrect request."
    },
    meaning: "The refusal of an ineligible reprovision when reprovisionIneligible is 'reject'."
  },
  reprovisionVisibleAfterMs: {
    default: 0,
    values: MILLISECONDS,
    basis: {
      kind: 'assumption',
      why: 'Nothing documents how soon reads show a reprovision; community tools report status flip-flop from API lag on Cloud PC reads (docs/graph-facts.md#read-lag). 0 shows it at once.'
    },
    meaning: 'How long after an accepted reprovision reads still show the Cloud PC as it was before it.'
  },
  reprovisionRemoteActionResult: {
    default: 'shown',
    values: {
      shown: "beta reads carry the reprovision's lastRemoteActionResult",
      absent: 'lastRemoteActionResult is null, so only status and provisionedDateTime show progress'
    },
    basis: {
      kind: 'assumption',
      why: "Beta cloudPC declares lastRemoteActionResult (docs/graph-facts.md#remote-action-result), but nothing documents that the service fills it for a reprovision, and Microsoft's examples leave it out."
    },
    meaning: 'Whether beta Cloud PC reads show the last reprovision as a remote action result.'
  },
  errorCodeCasing: {
    default: 'camel',
    values: {
      camel: "lower-cased, as Graph's error page writes its codes (badRequest)",
      pascal: 'upper-cased, as many real answers carry them (BadRequest)'
    },
    basis: {
      kind: 'assumption',
      why: "Graph's error page writes codes in camel case, but real answers carry other casings too (docs/graph-facts.md#error-body); which an error uses is undocumented, so a client compares without regard to case."
    },
    meaning: "The casing of the first letter of every Graph error's code."
  },
  vmAlreadyAzureAdjoinedSpelling: {
    default: 'metadata',
    values: {
      metadata: 'vmAlreadyAzureAdjoined, as declared',
      prose: "vmAlreadyAzureAdJoined, as the reference page's prose writes it"
    },
    basis: { kind: 'documented', source: 'docs/graph-facts.md#error-code-spelling' },
    meaning: 'How errorCode member 6 is spelt on the wire.'
  },
  writeBudget: {
    default: null,
    values: 'null (no limit), or { writes, perSeconds }: Graph writes the tenant may make in any window of that many seconds',
    basis: {
      kind: 'assumption',
      why: 'Graph publishes no throttling limits for Cloud PC resources (docs/graph-facts.md#throttling); with none by default, a test that plays throttling names its own.'
    },
    meaning: 'A tenant-wide cap on Graph writes; a write past it gets 429 with Retry-After in seconds.'
  },
  armUnknownResources: {
    default: 'passing',
    values: {
      passing: 'an ID no seed names reads as an image that passes every check',
      notFound: 'it is answered as ARM answers a resource that does not exist'
    },
    basis: {
      kind: 'assumption',
      why: "The emulator's scenarios publish from IDs no test seeds (docs/graph-facts.md#arm-source-image); serving them as passing images keeps those scenarios passing."
    },
    meaning: 'What Azure Resource Manager answers for a source image ID no seed names.'
  },
  armAccess: {
    default: 'granted',
    values: {
      granted: 'the caller may read source images',
      forbidden: 'ARM answers 403 AuthorizationFailed',
      otherTenant: 'ARM answers 401 InvalidAuthenticationTokenTenant, as to a token from a tenant the subscription is not in'
    },
    basis: { kind: 'documented', source: 'docs/graph-facts.md#arm-source-image' },
    meaning:
      'Whether the caller may read source images in Azure Resource Manager; a role that grants the read, Reader being enough, is documented. The message texts follow what ARM sends today, which no contract fixes.'
  }
}

/** Every switch's default, read from the table. */
export const DEFAULT_KNOBS: Knobs = Object.fromEntries(
  Object.entries(KNOBS).map(([name, spec]) => [name, spec.default])
) as unknown as Knobs
