// Every Graph answer the action acts on is checked here first: it is an object of the type asked
// for, each field it reads has the type Microsoft declares, and it is the entity that was asked for.
// Pure: values in, a checked value or an error naming the field out.

import { ActionError } from '../core/errors.js'
import { sameId } from './model.js'

/** The JSON kinds a declared property can take; an enum member is a string, a complex type an object. */
export type FieldKind = 'string' | 'number' | 'boolean' | 'object' | 'array'

/**
 * The properties the action reads, with the kinds the beta metadata declares for them
 * (conformance/graph-beta-slice.json; a test holds the two together). A property left out, or
 * `null`, is "not shown": the type says only what a value that is there must be.
 */
export const DECLARED_FIELDS = {
  cloudPcDeviceImage: {
    id: 'string',
    displayName: 'string',
    version: 'string',
    sourceImageResourceId: 'string',
    status: 'string',
    errorCode: 'string',
    expirationDate: 'string',
    lastModifiedDateTime: 'string',
    operatingSystem: 'string',
    osBuildNumber: 'string',
    osStatus: 'string',
    osVersionNumber: 'string',
    sizeInGB: 'number'
  },
  cloudPcProvisioningPolicy: {
    id: 'string',
    displayName: 'string',
    imageId: 'string',
    imageDisplayName: 'string',
    imageType: 'string'
  },
  cloudPC: {
    id: 'string',
    displayName: 'string',
    userPrincipalName: 'string',
    provisioningPolicyId: 'string',
    status: 'string',
    provisionedDateTime: 'string',
    lastRemoteActionResult: 'object'
  },
  cloudPcRemoteActionResult: {
    actionName: 'string',
    actionState: 'string',
    startDateTime: 'string',
    lastUpdatedDateTime: 'string',
    statusDetail: 'object'
  }
} as const satisfies Record<string, Record<string, FieldKind>>

export type GraphEntityType = Exclude<keyof typeof DECLARED_FIELDS, 'cloudPcRemoteActionResult'>

/** Nested objects the action reads, checked with their parent. */
const NESTED: Partial<Record<keyof typeof DECLARED_FIELDS, Record<string, keyof typeof DECLARED_FIELDS>>> = {
  cloudPC: { lastRemoteActionResult: 'cloudPcRemoteActionResult' }
}

const WORDS: Record<GraphEntityType, string> = {
  cloudPcDeviceImage: 'image',
  cloudPcProvisioningPolicy: 'provisioning policy',
  cloudPC: 'Cloud PC'
}
const article = (type: GraphEntityType) => (type === 'cloudPcDeviceImage' ? 'an' : 'a')

/** An answer that is not what was asked for: nothing is done with it. */
export class UnexpectedAnswerError extends ActionError {
  constructor(message: string) {
    super('Unexpected Graph answer', message)
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** What `value` is, in a few words, for an error. */
function described(value: unknown): string {
  const kind = kindOf(value)
  if (kind !== 'object') return kind === 'array' ? 'an array' : kind === 'null' ? 'null' : `a ${kind}`
  const keys = Object.keys(value as object)
  return keys.length === 0 ? 'an empty object' : `an object with ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`
}

function checkFields(type: keyof typeof DECLARED_FIELDS, value: Record<string, unknown>, where: string, path: string): void {
  const fields: Record<string, FieldKind> = DECLARED_FIELDS[type]
  for (const [field, kind] of Object.entries(fields)) {
    const got = value[field]
    if (got === undefined || got === null) continue
    if (kindOf(got) !== kind)
      throw new UnexpectedAnswerError(
        `${where} answered with ${path}${field} as ${described(got)}, where Microsoft declares a ${kind}. Nothing was done with the answer.`
      )
    const nested = NESTED[type]?.[field]
    if (nested) checkFields(nested, got as Record<string, unknown>, where, `${path}${field}.`)
  }
}

/**
 * `value` as an entity of `type`: an object with a non-empty `id`, each field the action reads of
 * its declared kind. `where` names the request for the error.
 */
export function checkEntity<T>(type: GraphEntityType, value: unknown, where: string): T {
  if (kindOf(value) !== 'object')
    throw new UnexpectedAnswerError(
      `${where} answered with ${described(value)}, not ${article(type)} ${WORDS[type]}. Nothing was done with the answer.`
    )
  const entity = value as Record<string, unknown>
  if (typeof entity.id !== 'string' || entity.id.trim() === '')
    throw new UnexpectedAnswerError(
      `${where} answered with ${described(value)} that has no ID, not ${article(type)} ${WORDS[type]}. Nothing was done with the answer.`
    )
  checkFields(type, entity, where, '')
  return value as T
}

/** The entity read for `id`, checked to be that one: a read answered with another is never acted on. */
export function checkRead<T extends { id: string }>(type: GraphEntityType, value: unknown, id: string, where: string): T {
  const entity = checkEntity<T>(type, value, where)
  if (!sameId(entity.id, id))
    throw new UnexpectedAnswerError(
      `${where} asked for ${WORDS[type]} ${id} and was answered with ${WORDS[type]} ${entity.id}. Nothing was done with the answer.`
    )
  return entity
}

/** Every item of a list, checked; one that is not an entity of `type` fails the whole answer. */
export function checkList<T>(type: GraphEntityType, items: readonly unknown[], where: string): T[] {
  return items.map((item, i) => checkEntity<T>(type, item, `${where} (item ${i + 1} of the list)`))
}
