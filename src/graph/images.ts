// Graph calls on device images, each safe against a lost answer: a write whose outcome is unknown
// is followed by a read that decides, never by a blind repeat.

import { ActionError, GraphError, isNotFound, OutcomeUnknownError } from '../core/errors.js'
import type { GraphClient } from './client.js'
import { checkEntity, checkList, checkRead } from './answer-checks.js'
import {
  type DeviceImage,
  type ImageCreateBody,
  type ImageKey,
  type ImageSourcePatch,
  isSameImage,
  isSameSource,
  parseImageStatus,
  POLICIES_PATH,
  type ProvisioningPolicy,
  sameId
} from './model.js'
import type { Logger } from '../core/logger.js'
import { type Settled, settleWrite } from '../http/settle-write.js'
import { isStaleFailure } from './read-lag.js'
import type { RequestIds } from './answers.js'

const IMAGES_PATH = '/deviceManagement/virtualEndpoint/deviceImages'
export async function listImages(client: GraphClient): Promise<DeviceImage[]> {
  // No $filter: which properties the service filters on is not documented, and a tenant holds at most 20 images.
  return checkList<DeviceImage>('cloudPcDeviceImage', await client.list<unknown>(IMAGES_PATH), `GET ${IMAGES_PATH}`).map(
    withKnownStatus
  )
}

/** An image as checked, its status in the spelling the action knows ("ready " and "Ready" are ready). */
function checkedImage(value: unknown, id: string | undefined, where: string): DeviceImage {
  return withKnownStatus(
    id === undefined
      ? checkEntity<DeviceImage>('cloudPcDeviceImage', value, where)
      : checkRead<DeviceImage>('cloudPcDeviceImage', value, id, where)
  )
}

function withKnownStatus(image: DeviceImage): DeviceImage {
  const status = parseImageStatus(image.status)
  return status === 'unrecognised' || status === image.status ? image : { ...image, status }
}

/** Reads the image, with the identifiers of the read for a failure message. */
export async function readImage(client: GraphClient, id: string, deadline?: number): Promise<ImageRead> {
  const path = `${IMAGES_PATH}/${encodeURIComponent(id)}`
  const response = await client.get<unknown>(path, deadline)
  return { image: checkedImage(response.body, id, `GET ${path}`), ids: response.ids }
}

export interface ImageRead {
  image: DeviceImage
  /** The identifiers of the read, when it came from a request of its own. */
  ids?: RequestIds
}

export type CreateOutcome = { kind: 'created' | 'adopted'; image: DeviceImage } | { kind: 'conflict'; error: GraphError }

/**
 * Creates the image. When the answer is lost, lists again and adopts the image if the create took
 * effect; only POSTs again when it did not, so one run never leaves two images.
 */
export async function createImage(
  client: GraphClient,
  key: ImageKey & { sourceImageResourceId: string },
  logger: Logger
): Promise<CreateOutcome> {
  let adopted = false
  try {
    const image = await settleWrite<DeviceImage>({
      what: `Creating image "${key.displayName}" version ${key.version}`,
      logger,
      write: async () => {
        const response = await client.request<DeviceImage>({
          method: 'POST',
          path: IMAGES_PATH,
          body: {
            displayName: key.displayName,
            version: key.version,
            sourceImageResourceId: key.sourceImageResourceId
          } satisfies ImageCreateBody
        })
        const body = response.body as { id?: unknown } | undefined
        if (typeof body !== 'object' || body === null || !body.id)
          throw new OutcomeUnknownError('POST', IMAGES_PATH, `HTTP ${response.status} without the created image`)
        const image = checkedImage(response.body, undefined, `POST ${IMAGES_PATH}`)
        // An answer that names another image says nothing of this create: the list decides.
        if (!isSameImage(image, key) || !isSameSource(image.sourceImageResourceId, key.sourceImageResourceId))
          throw new OutcomeUnknownError(
            'POST',
            IMAGES_PATH,
            `HTTP ${response.status} with image ${image.id} ("${String(image.displayName)}" version ${String(image.version)}), not the one posted`
          )
        return image
      },
      check: async () => {
        const found = (await listImages(client)).filter(image => isSameImage(image, key))
        const ours = found.find(image => isSameSource(image.sourceImageResourceId, key.sourceImageResourceId))
        if (ours) {
          logger.info(`The image was created after all (${ours.id}); adopting it.`)
          adopted = true
          return { kind: 'done', value: ours }
        }
        if (found.length > 0)
          throw new ActionError(
            'Image exists with another source',
            `While the answer to the create was lost, image "${found[0].displayName}" version ${found[0].version} (${found[0].id}) appeared with the source ${found[0].sourceImageResourceId}, not ${key.sourceImageResourceId}: another run is publishing the same version. Serialize runs with a workflow concurrency group, and publish this source as a new version.`
          )
        return { kind: 'notDone' }
      }
    })
    return { kind: adopted ? 'adopted' : 'created', image }
  } catch (error) {
    if (error instanceof GraphError && error.status === 409) return { kind: 'conflict', error }
    throw error
  }
}

export type RetryRoute = 'retryUpload' | 'reupload'

/**
 * Graph answers an action it does not offer with 404, 405, or 400 "Resource not found for the
 * segment '…'" (docs/graph-facts.md#unknown-segment): then the older `reupload` may still be there.
 */
export function isUnknownAction(error: unknown): boolean {
  if (!(error instanceof GraphError)) return false
  if (isNotFound(error) || error.status === 405) return true
  return error.status === 400 && /not found for the segment|segment .*not found|resource not found/i.test(error.details.message)
}

/**
 * Asks the service to upload a failed image again: `retryUpload`, or the retired `reupload` where
 * `retryUpload` is not offered. `failed` is the image as last read, the failure being retried. A lost
 * answer is settled by reading the image: a status other than failed, or a failure later than
 * `failed`, shows the retry was taken. A repeat the service refuses after a lost answer means the
 * first request started an upload, which the wait then sees. Returns the route that took the request.
 */
export async function requestUploadRetry(
  client: GraphClient,
  failed: DeviceImage,
  deadline: number | undefined,
  logger: Logger
): Promise<RetryRoute> {
  const base = `${IMAGES_PATH}/${encodeURIComponent(failed.id)}`
  let route: RetryRoute = 'retryUpload'
  await settleWrite({
    what: `Asking the service to retry the upload of image ${failed.id}`,
    logger,
    write: async () => {
      if (route === 'retryUpload') {
        try {
          await client.request({ method: 'POST', path: `${base}/retryUpload`, deadline })
          return
        } catch (error) {
          if (!isUnknownAction(error)) throw error
          route = 'reupload'
        }
      }
      await client.request({ method: 'POST', path: `${base}/reupload`, deadline })
    },
    // A repeat is refused once the first request has started an upload, which the wait then sees;
    // a read may still show the failure from before it for a while.
    check: async reason => {
      if (reason === 'refusedRepeat') return { kind: 'done', value: undefined }
      const { image } = await readImage(client, failed.id, deadline)
      return isStaleFailure(image, failed.lastModifiedDateTime) ? { kind: 'notDone' } : { kind: 'done', value: undefined }
    }
  })
  return route
}

export async function listPolicies(client: GraphClient): Promise<ProvisioningPolicy[]> {
  const path = `${POLICIES_PATH}?$select=id,displayName,imageId,imageDisplayName,imageType`
  return checkList<ProvisioningPolicy>('cloudPcProvisioningPolicy', await client.list<unknown>(path), `GET ${path}`)
}

/** Deletes the image; a lost answer is settled by listing. */
export async function deleteImage(client: GraphClient, id: string, logger: Logger): Promise<void> {
  await settleWrite({
    what: `Deleting image ${id}`,
    logger,
    write: async () => {
      try {
        await client.request({ method: 'DELETE', path: `${IMAGES_PATH}/${encodeURIComponent(id)}` })
      } catch (error) {
        // Already gone: what the delete was for.
        if (!isNotFound(error)) throw error
      }
    },
    check: async () =>
      (await listImages(client)).some(image => sameId(image.id, id)) ? { kind: 'notDone' } : { kind: 'done', value: undefined }
  })
}

/**
 * Points the image at a new source (undocumented PATCH). Returns the image as the service now has
 * it, with the IDs of the read when one was needed to see it.
 */
export async function updateImageSource(
  client: GraphClient,
  id: string,
  sourceImageResourceId: string,
  logger: Logger
): Promise<ImageRead> {
  const path = `${IMAGES_PATH}/${encodeURIComponent(id)}`
  let last: ImageRead | undefined
  const confirm = async (): Promise<Settled<ImageRead>> => {
    const read = (last = await readImage(client, id))
    return isSameSource(read.image.sourceImageResourceId, sourceImageResourceId)
      ? { kind: 'done', value: read }
      : { kind: 'notDone' }
  }
  const written = await settleWrite<ImageRead | undefined>({
    what: `Changing the source of image ${id}`,
    logger,
    write: async () => {
      const response = await client.request<DeviceImage>({
        method: 'PATCH',
        path,
        body: { sourceImageResourceId } satisfies ImageSourcePatch
      })
      return response.body === undefined ? undefined : { image: checkedImage(response.body, id, `PATCH ${path}`) }
    },
    check: confirm
  })
  if (written) return written
  // 204: the image as it is now tells whether the change took effect.
  const now = await confirm()
  if (now.kind === 'done') return now.value
  throw new ActionError(
    'Image update failed',
    `Image ${id} still has the source ${last?.image.sourceImageResourceId} after the update.`
  )
}
