import type * as Graph from '@microsoft/microsoft-graph-types-beta'
import type { ApiVersion, EnumView } from './enums.js'
import { decodePathSegment, defaultCode, errorReply, type Reply } from './http-util.js'
import {
  applySelect,
  decodeSkipToken,
  encodeSkipToken,
  filterMatches,
  parseFilter,
  parseSelect,
  queryString,
  type Filter
} from './odata.js'
import type { CloudPcRecord, Store } from './state.js'
import type { CloudPcView, ErrorChoice, Knobs } from './types.js'

export interface GraphEnv {
  store: Store
  knobs: Knobs
  /** Origin the emulator serves, for @odata.context and @odata.nextLink. */
  baseUrl: string
}

export interface GraphRequest {
  method: string
  version: ApiVersion
  /** Path after the version prefix, without query. */
  path: string
  query: Record<string, string>
  body: string
  view: EnumView
}

export interface MatchedRoute {
  /** Name recorded in the request log, e.g. 'deviceImages.create'. */
  name: string
  handle(env: GraphEnv, req: GraphRequest): Reply
}

type Handler = (env: GraphEnv, req: GraphRequest, id: string) => Reply

const PREFIX = '/deviceManagement/virtualEndpoint/'
const IMAGES = 'deviceImages'
const POLICIES = 'provisioningPolicies'
const CLOUD_PCS = 'cloudPCs'

/**
 * Every property of cloudPcDeviceImage (docs/graph-facts.md#image-properties), checked against Microsoft's types in
 * both directions; a create naming another is refused.
 */
const IMAGE_PROPERTIES = Object.keys({
  id: true,
  displayName: true,
  version: true,
  sourceImageResourceId: true,
  operatingSystem: true,
  osBuildNumber: true,
  osVersionNumber: true,
  sizeInGB: true,
  lastModifiedDateTime: true,
  status: true,
  errorCode: true,
  osStatus: true,
  expirationDate: true,
  scopeIds: true,
  statusDetails: true
} satisfies Record<keyof Graph.CloudPcDeviceImage, true>)

const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const MANAGED_IMAGE_ID = new RegExp(
  `^/subscriptions/${GUID}/resourceGroups/[^/]+/providers/Microsoft\\.Compute/images/[^/]+$`,
  'i'
)
const GALLERY_IMAGE_ID = new RegExp(
  `^/subscriptions/${GUID}/resourceGroups/[^/]+/providers/Microsoft\\.Compute/galleries/[^/]+/images/[^/]+(/versions/[^/]+)?$`,
  'i'
)

const BAD_JSON = errorReply(
  400,
  'BadRequest',
  'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.'
)

/** What Graph answers for a path segment or action it does not know (docs/graph-facts.md#unknown-segment). */
export function segmentNotFound(segment: string): Reply {
  return errorReply(400, 'BadRequest', `Resource not found for the segment '${segment}'.`)
}

/** The segments the emulator serves below the version prefix; `key` stands for an entity id. */
const SEGMENT_TREE: SegmentNode = {
  deviceManagement: {
    virtualEndpoint: {
      deviceImages: { key: { retryUpload: {}, reupload: {} } },
      provisioningPolicies: { key: {} },
      cloudPCs: { key: { reprovision: {} } }
    }
  }
}

interface SegmentNode {
  [segment: string]: SegmentNode
}

/** The first segment of `path` that the tree above does not have, as Graph names it in its error. */
function firstUnknownSegment(path: string): string {
  const segments = path.split('/').filter(s => s !== '')
  let node: SegmentNode = SEGMENT_TREE
  for (const segment of segments) {
    const known = Object.keys(node).find(k => k !== 'key' && k.toLowerCase() === segment.toLowerCase())
    const next = known !== undefined ? node[known] : node.key
    if (next === undefined) return decodePathSegment(segment)
    node = next
  }
  return segments.at(-1) ?? ''
}

function methodNotAllowed(method: string): Reply {
  return errorReply(405, defaultCode(405), `The HTTP method '${method}' is not supported by this resource.`)
}

function itemNotFound(id: string): Reply {
  return errorReply(
    404,
    'itemNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`
  )
}

function knobError(choice: ErrorChoice, message: string): Reply {
  return errorReply(choice.status, choice.code, message)
}

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function missingText(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name]
  return typeof value === 'string' && value.trim() !== '' ? undefined : `The property '${name}' is required.`
}

function sourceProblem(knobs: Knobs, id: unknown): string | undefined {
  if (typeof id !== 'string' || id.trim() === '') return "The property 'sourceImageResourceId' is required."
  if (MANAGED_IMAGE_ID.test(id) || (knobs.galleryImageIds === 'accept' && GALLERY_IMAGE_ID.test(id))) return undefined
  return `The sourceImageResourceId '${id}' is not valid. The required format is /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/images/{imageName}.`
}

function contextUrl(env: GraphEnv, req: GraphRequest, set: string, select: string[] | undefined, entity: boolean): string {
  const selected = select ? `(${select.join(',')})` : ''
  return `${env.baseUrl}/${req.version}/$metadata#deviceManagement/virtualEndpoint/${set}${selected}${entity ? '/$entity' : ''}`
}

function entityReply(env: GraphEnv, req: GraphRequest, set: string, entity: object, status = 200): Reply {
  const select = parseSelect(req.query.$select)
  return { status, json: { '@odata.context': contextUrl(env, req, set, select, true), ...applySelect(entity, select) } }
}

/** Filters, pages and trims a collection; `filterable` names what `$filter` may test. */
function collectionReply(
  env: GraphEnv,
  req: GraphRequest,
  set: string,
  entities: object[],
  pageSize: number,
  filterable: Record<string, Filter['op'][]>
): Reply {
  let items = entities as Record<string, unknown>[]
  const rawFilter = req.query.$filter
  if (rawFilter !== undefined && env.knobs.filter !== 'ignore') {
    if (env.knobs.filter === 'reject')
      return errorReply(400, 'BadRequest', "Query option 'Filter' is not allowed on this resource.")
    const filter = parseFilter(rawFilter)
    const property = filter && Object.keys(filterable).find(p => p.toLowerCase() === filter.property.toLowerCase())
    if (!filter || !property || !filterable[property].includes(filter.op)) {
      return errorReply(400, 'BadRequest', `Invalid filter clause: '${rawFilter}' is not supported on ${set}.`)
    }
    items = items.filter(e => filterMatches(filter, e[property]))
  }
  const offset = decodeSkipToken(req.query.$skiptoken)
  if (offset === undefined) return errorReply(400, 'BadRequest', 'The $skiptoken value is not valid.')
  const select = parseSelect(req.query.$select)
  const json: Record<string, unknown> = {
    '@odata.context': contextUrl(env, req, set, select, false),
    value: items.slice(offset, offset + pageSize).map(e => applySelect(e, select))
  }
  if (offset + pageSize < items.length) {
    const next = queryString({ ...req.query, $skiptoken: encodeSkipToken(offset + pageSize) })
    json['@odata.nextLink'] = `${env.baseUrl}/${req.version}${req.path}?${next}`
  }
  return { status: 200, json }
}

const listImages: Handler = (env, req) =>
  collectionReply(
    env,
    req,
    IMAGES,
    env.store.images.map(i => env.store.readImage(i, req.view)),
    env.knobs.imagePageSize,
    { displayName: ['eq', 'contains'] }
  )

const getImage: Handler = (env, req, id) => {
  const img = env.store.findImage(id)
  return img ? entityReply(env, req, IMAGES, env.store.readImage(img, req.view)) : itemNotFound(id)
}

/** Validation, then the duplicate rule, then the cap (docs/graph-facts.md#create-errors). */
const createImage: Handler = (env, req) => {
  const { store, knobs } = env
  const body = parseObject(req.body)
  if (!body) return BAD_JSON
  const unknown = Object.keys(body).find(k => !k.startsWith('@odata.') && !IMAGE_PROPERTIES.includes(k))
  if (unknown !== undefined) {
    return errorReply(400, 'BadRequest', `The property '${unknown}' does not exist on type 'microsoft.graph.cloudPcDeviceImage'.`)
  }
  const problem =
    missingText(body, 'displayName') ?? missingText(body, 'version') ?? sourceProblem(knobs, body.sourceImageResourceId)
  if (problem) return knobError(knobs.createValidationError, problem)
  const fields = {
    displayName: body.displayName as string,
    version: body.version as string,
    sourceImageResourceId: body.sourceImageResourceId as string
  }
  const duplicate = store.images.some(
    i => i.displayName.toLowerCase() === fields.displayName.toLowerCase() && i.version === fields.version
  )
  if (duplicate && knobs.duplicateOnCreate === 'reject') {
    return knobError(
      knobs.duplicateError,
      `An image with the display name '${fields.displayName}' and version '${fields.version}' already exists.`
    )
  }
  if (store.images.length >= knobs.imageCap) {
    return knobError(
      knobs.imageCapError,
      `The tenant has reached the limit of ${knobs.imageCap} images. Delete an image before adding another.`
    )
  }
  const img = store.createImage(fields)
  return entityReply(env, req, IMAGES, store.renderImage(img, req.view, knobs.createResponseOsFields === 'filled'), 201)
}

/**
 * Undocumented (docs/graph-facts.md#image-patch): changes the record; a new source starts an upload only
 * with knob imagePatchStartsUpload.
 */
const patchImage: Handler = (env, req, id) => {
  const { store, knobs } = env
  if (knobs.imagePatch === 405) return methodNotAllowed(req.method)
  const img = store.findImage(id)
  if (!img) return itemNotFound(id)
  if (knobs.imagePatch === 400) return errorReply(400, 'notAllowed', 'Updating a cloudPcDeviceImage is not allowed.')
  const body = parseObject(req.body)
  if (!body) return BAD_JSON
  const problem =
    (body.displayName !== undefined ? missingText(body, 'displayName') : undefined) ??
    (body.version !== undefined ? missingText(body, 'version') : undefined) ??
    (body.sourceImageResourceId !== undefined ? sourceProblem(knobs, body.sourceImageResourceId) : undefined)
  if (problem) return knobError(knobs.createValidationError, problem)
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
  const source = text(body.sourceImageResourceId)
  // Azure resource IDs compare case-insensitively: a change of case is the same source.
  const newSource = source !== undefined && source.toLowerCase() !== img.sourceImageResourceId.toLowerCase()
  store.updateImage(img, { displayName: text(body.displayName), version: text(body.version), sourceImageResourceId: source })
  if (newSource && knobs.imagePatchStartsUpload) store.restartUpload(img)
  return knobs.imagePatch === 'accept200' ? entityReply(env, req, IMAGES, store.renderImage(img, req.view)) : { status: 204 }
}

const deleteImage: Handler = (env, _req, id) => {
  const { store, knobs } = env
  const img = store.findImage(id)
  if (!img) return itemNotFound(id)
  const users = store.policiesUsing(img)
  if (users.length > 0) {
    const names = users.map(p => `'${p.displayName}' (${p.id})`).join(', ')
    return knobError(
      knobs.deleteInUseError,
      `The image is used by provisioning policies ${names}; point them at another image first.`
    )
  }
  store.deleteImage(img)
  return { status: 204 }
}

/**
 * retryUpload and the deprecated reupload: beta only (docs/graph-facts.md#retry-upload), each shaped by its
 * knob. 'unknownSegment' answers as a service that does not know the action.
 */
function uploadAction(action: 'retryUpload' | 'reupload'): Handler {
  return (env, req, id) => {
    const { store, knobs } = env
    const mode = action === 'retryUpload' ? knobs.retryUpload : knobs.reupload
    if (req.version === 'v1.0' || mode === 'unknownSegment') return segmentNotFound(action)
    if (mode === 405) return methodNotAllowed(req.method)
    if (mode === 'retired400')
      return errorReply(400, 'BadRequest', 'The reupload action is no longer supported. Use retryUpload.')
    if (mode === 'noop') return { status: 204 }
    const img = store.findImage(id)
    if (!img) return itemNotFound(id)
    // The true status, not a stale read: a retry asked while the last one still runs meets a running upload.
    const status = store.imageStatus(img)
    if (status !== 'failed' && knobs.retryOnNonFailed === 'reject') {
      return errorReply(400, 'BadRequest', `Only an image whose upload failed can be retried; image '${img.id}' is ${status}.`)
    }
    store.restartUpload(img, knobs.staleReadsAfterRetryMs)
    return { status: 204 }
  }
}

const listPolicies: Handler = (env, req) =>
  collectionReply(
    env,
    req,
    POLICIES,
    env.store.policies.map(p => env.store.renderPolicy(p)),
    Infinity,
    {}
  )

const getPolicy: Handler = (env, req, id) => {
  const policy = env.store.findPolicy(id)
  return policy ? entityReply(env, req, POLICIES, env.store.renderPolicy(policy)) : itemNotFound(id)
}

const patchPolicy: Handler = (env, req, id) => {
  const { store, knobs } = env
  const policy = store.findPolicy(id)
  if (!policy) return itemNotFound(id)
  const body = parseObject(req.body)
  if (!body) return BAD_JSON
  const { imageId, imageDisplayName, imageType } = body
  if (imageType !== undefined && imageType !== 'gallery' && imageType !== 'custom') {
    return errorReply(400, 'BadRequest', `Invalid value '${String(imageType)}' for property 'imageType'.`)
  }
  for (const [name, value] of [
    ['imageId', imageId],
    ['imageDisplayName', imageDisplayName]
  ] as const) {
    if (value !== undefined && typeof value !== 'string')
      return errorReply(400, 'BadRequest', `The property '${name}' must be a string.`)
  }
  const custom = (imageType ?? policy.imageType) === 'custom'
  if (custom && typeof imageId === 'string' && !store.findImage(imageId) && knobs.policyPatchUnknownImage === 'reject') {
    return errorReply(400, 'BadRequest', `The device image '${imageId}' does not exist.`)
  }
  if (typeof imageId === 'string') policy.imageId = imageId
  if (typeof imageDisplayName === 'string') policy.imageDisplayName = imageDisplayName
  if (typeof imageType === 'string') policy.imageType = imageType
  return { status: 204 }
}

function readCloudPc(env: GraphEnv, req: GraphRequest, pc: CloudPcRecord): CloudPcView {
  return env.store.readCloudPc(pc, req.view, env.knobs.reprovisionRemoteActionResult === 'shown')
}

const listCloudPcs: Handler = (env, req) =>
  collectionReply(
    env,
    req,
    CLOUD_PCS,
    env.store.cloudPcs.map(pc => readCloudPc(env, req, pc)),
    env.knobs.cloudPcPageSize,
    { provisioningPolicyId: ['eq'] }
  )

const getCloudPc: Handler = (env, req, id) => {
  const pc = env.store.findCloudPc(id)
  return pc ? entityReply(env, req, CLOUD_PCS, readCloudPc(env, req, pc)) : itemNotFound(id)
}

/** Only a Cloud PC that is provisioned or failed can be reprovisioned (docs/graph-facts.md#reprovision-eligibility). */
const reprovision: Handler = (env, req, id) => {
  const { store, knobs } = env
  const pc = store.findCloudPc(id)
  if (!pc) return itemNotFound(id)
  // The body is optional (osVersion, userAccountType); when sent it must be a JSON object.
  if (req.body.trim() !== '' && !parseObject(req.body)) return BAD_JSON
  // The true status, not a lagging read: a Cloud PC already rebuilding is not eligible.
  if (!store.canReprovision(pc)) {
    if (knobs.reprovisionIneligible === 'ignore') return { status: 204 }
    return knobError(
      knobs.reprovisionIneligibleError,
      `The Cloud PC '${pc.id}' is ${store.cloudPcStatus(pc)}; a Cloud PC must have a status of Failed or Provisioned to be reprovisioned.`
    )
  }
  store.reprovision(pc, knobs.reprovisionMs, knobs.reprovisionVisibleAfterMs)
  return { status: 204 }
}

/** The Graph type a route reads or writes, as Microsoft's metadata names it. */
type GraphType = 'cloudPcDeviceImage' | 'cloudPcProvisioningPolicy' | 'cloudPC'

interface Route {
  pattern: RegExp
  type: GraphType
  /** The bound action the route's last segment names. */
  action?: string
  methods: Record<string, [string, Handler]>
}

const ROUTES: Route[] = [
  {
    pattern: /^deviceImages$/i,
    type: 'cloudPcDeviceImage',
    methods: { GET: ['deviceImages.list', listImages], POST: ['deviceImages.create', createImage] }
  },
  {
    pattern: /^deviceImages\/([^/]+)$/i,
    type: 'cloudPcDeviceImage',
    methods: {
      GET: ['deviceImages.get', getImage],
      PATCH: ['deviceImages.update', patchImage],
      DELETE: ['deviceImages.delete', deleteImage]
    }
  },
  {
    pattern: /^deviceImages\/([^/]+)\/retryUpload$/i,
    type: 'cloudPcDeviceImage',
    action: 'retryUpload',
    methods: { POST: ['deviceImages.retryUpload', uploadAction('retryUpload')] }
  },
  {
    pattern: /^deviceImages\/([^/]+)\/reupload$/i,
    type: 'cloudPcDeviceImage',
    action: 'reupload',
    methods: { POST: ['deviceImages.reupload', uploadAction('reupload')] }
  },
  { pattern: /^provisioningPolicies$/i, type: 'cloudPcProvisioningPolicy', methods: { GET: ['policies.list', listPolicies] } },
  {
    pattern: /^provisioningPolicies\/([^/]+)$/i,
    type: 'cloudPcProvisioningPolicy',
    methods: { GET: ['policies.get', getPolicy], PATCH: ['policies.update', patchPolicy] }
  },
  { pattern: /^cloudPCs$/i, type: 'cloudPC', methods: { GET: ['cloudPcs.list', listCloudPcs] } },
  { pattern: /^cloudPCs\/([^/]+)$/i, type: 'cloudPC', methods: { GET: ['cloudPcs.get', getCloudPc] } },
  {
    pattern: /^cloudPCs\/([^/]+)\/reprovision$/i,
    type: 'cloudPC',
    action: 'reprovision',
    methods: { POST: ['cloudPcs.reprovision', reprovision] }
  }
]

/** Every route name the emulator serves, with its Graph type and bound action, for the conformance test. */
export const SERVED_ROUTES: { name: string; method: string; pattern: string; type: GraphType; action?: string }[] =
  ROUTES.flatMap(r =>
    Object.entries(r.methods).map(([method, [name]]) => ({
      name,
      method,
      pattern: r.pattern.source,
      type: r.type,
      action: r.action
    }))
  )

/** Graph segment names are case-insensitive; a known path with another method answers 405. */
export function matchGraphRoute(method: string, path: string): MatchedRoute {
  const underPrefix = path.toLowerCase().startsWith(PREFIX.toLowerCase())
  for (const route of underPrefix ? ROUTES : []) {
    const m = route.pattern.exec(path.slice(PREFIX.length))
    if (!m) continue
    const entry = route.methods[method]
    if (!entry) return { name: 'unknown', handle: () => methodNotAllowed(method) }
    const [name, handler] = entry
    const id = m[1] === undefined ? '' : decodePathSegment(m[1])
    return { name, handle: (env, req) => handler(env, req, id) }
  }
  return { name: 'unknown', handle: () => segmentNotFound(firstUnknownSegment(path)) }
}
