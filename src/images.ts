// Graph calls on device images, each safe against a lost answer: a write whose outcome is unknown
// is followed by a read that decides, never by a blind repeat.

import { ActionError, GraphError, OutcomeUnknownError } from './errors.js'
import type { GraphClient } from './graph-client.js'
import type { DeviceImage, ImageCreateBody, ImageSourcePatch } from './graph-types.js'
import type { Logger } from './logger.js'
import { type ImageRead, isRefusal, isStaleFailure } from './wait.js'

const IMAGES_PATH = '/deviceManagement/virtualEndpoint/deviceImages'
export const POLICIES_PATH = '/deviceManagement/virtualEndpoint/provisioningPolicies'
const MAX_CREATE_POSTS = 3
/** Windows 365 keeps at most this many custom images per tenant. */
export const IMAGE_LIMIT = 20

export interface ImageKey {
  displayName: string
  version: string
}

/** Name compared case-insensitively (as the service does), version exactly. */
export function isSameImage(image: Pick<DeviceImage, 'displayName' | 'version'>, key: ImageKey): boolean {
  return (
    typeof image.displayName === 'string' &&
    image.displayName.trim().toLowerCase() === key.displayName.toLowerCase() &&
    image.version === key.version
  )
}

/** Azure resource IDs are case-insensitive. */
export function isSameSource(a: string | null | undefined, b: string): boolean {
  return typeof a === 'string' && a.trim().toLowerCase() === b.toLowerCase()
}

export async function listImages(client: GraphClient): Promise<DeviceImage[]> {
  // No $filter: which properties the service filters on is not documented, and a tenant holds at most 20 images.
  return client.list<DeviceImage>(IMAGES_PATH)
}

/** Reads the image, with the identifiers of the read for a failure message. */
export async function readImage(client: GraphClient, id: string, deadline?: number): Promise<ImageRead> {
  const response = await client.get<DeviceImage>(`${IMAGES_PATH}/${encodeURIComponent(id)}`, deadline)
  if (!response.body || typeof response.body !== 'object')
    throw new ActionError('Unexpected Graph answer', `GET ${IMAGES_PATH}/${id} answered without an image.`)
  return { image: response.body, ids: response.ids }
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
  for (let post = 1; ; post++) {
    try {
      const response = await client.request<DeviceImage>({
        method: 'POST',
        path: IMAGES_PATH,
        body: {
          displayName: key.displayName,
          version: key.version,
          sourceImageResourceId: key.sourceImageResourceId
        } satisfies ImageCreateBody
      })
      if (response.body?.id) return { kind: 'created', image: response.body }
      throw new OutcomeUnknownError('POST', IMAGES_PATH, `HTTP ${response.status} without the created image`)
    } catch (error) {
      if (error instanceof GraphError && error.status === 409) return { kind: 'conflict', error }
      if (!(error instanceof OutcomeUnknownError)) throw error
      logger.info(`The create request's outcome is unknown (${error.cause}); listing images to see whether it took effect.`)
      const found = (await listImages(client)).filter(image => isSameImage(image, key))
      const ours = found.find(image => isSameSource(image.sourceImageResourceId, key.sourceImageResourceId))
      if (ours) {
        logger.info(`The image was created after all (${ours.id}); adopting it.`)
        return { kind: 'adopted', image: ours }
      }
      if (found.length > 0)
        throw new ActionError(
          'Image exists with another source',
          `While the answer to the create was lost, image "${found[0].displayName}" version ${found[0].version} (${found[0].id}) appeared with the source ${found[0].sourceImageResourceId}, not ${key.sourceImageResourceId}: another run is publishing the same version. Serialize runs with a workflow concurrency group, and publish this source as a new version.`
        )
      if (post >= MAX_CREATE_POSTS)
        throw new ActionError(
          'Image create failed',
          `Creating the image failed ${post} times with no image appearing (${error.cause}). Run the workflow again later.`
        )
      logger.info('The image does not exist; sending the create again.')
    }
  }
}

export type RetryRoute = 'retryUpload' | 'reupload'

/** How many times a retry request is sent when its answers are lost, with a read before each repeat. */
const MAX_RETRY_POSTS = 3

/**
 * Graph answers an action it does not offer with 404, 405, or 400 "Resource not found for the
 * segment '…'" (graph-api.md §15 row 3): then the older `reupload` may still be there.
 */
export function isUnknownAction(error: unknown): boolean {
  if (!(error instanceof GraphError)) return false
  if (error.status === 404 || error.status === 405) return true
  return error.status === 400 && /not found for the segment|segment .*not found|resource not found/i.test(error.details.message)
}

/**
 * Asks the service to upload a failed image again: `retryUpload`, or the retired `reupload` where
 * `retryUpload` is not offered. `failed` is the image as last read, the failure being retried. A lost
 * answer is settled by reading the image: a status other than failed, or a failure later than
 * `failed`, shows the retry was taken. A repeat the service refuses after a lost answer means the
 * first request started an upload, which the wait then sees. Returns the route that took the request.
 */
export async function requestUploadRetry(client: GraphClient, failed: DeviceImage, deadline?: number): Promise<RetryRoute> {
  const base = `${IMAGES_PATH}/${encodeURIComponent(failed.id)}`
  let route: RetryRoute = 'retryUpload'
  const post = async (): Promise<void> => {
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
  }
  for (let tries = 1; ; tries++) {
    try {
      await post()
      return route
    } catch (error) {
      if (tries > 1 && isRefusal(error)) return route
      if (!(error instanceof OutcomeUnknownError)) throw error
      const { image } = await readImage(client, failed.id, deadline)
      if (!isStaleFailure(image, failed.lastModifiedDateTime)) return route
      if (tries >= MAX_RETRY_POSTS)
        throw new ActionError(
          'Upload retry failed',
          `Asking the service to retry the upload of image ${failed.id} (${route}) failed ${tries} times, and the image still shows the failure: ${error.cause}. Run the workflow again later.`
        )
    }
  }
}

export interface ProvisioningPolicy {
  id: string
  displayName?: string
  imageId?: string | null
  imageDisplayName?: string | null
  imageType?: string | null
}

export async function listPolicies(client: GraphClient): Promise<ProvisioningPolicy[]> {
  return client.list<ProvisioningPolicy>(`${POLICIES_PATH}?$select=id,displayName,imageId,imageDisplayName,imageType`)
}

export function usesImage(policy: ProvisioningPolicy, imageId: string): boolean {
  return typeof policy.imageId === 'string' && policy.imageId.toLowerCase() === imageId.toLowerCase()
}

/** Deletes the image; a lost answer is settled by listing. */
export async function deleteImage(client: GraphClient, id: string): Promise<void> {
  try {
    await client.request({ method: 'DELETE', path: `${IMAGES_PATH}/${encodeURIComponent(id)}` })
  } catch (error) {
    if (error instanceof GraphError && error.status === 404) return
    if (!(error instanceof OutcomeUnknownError)) throw error
    if ((await listImages(client)).some(image => image.id === id))
      throw new ActionError('Image delete failed', `Deleting image ${id} failed (${error.cause}); it still exists.`)
  }
}

/**
 * Points the image at a new source (undocumented PATCH). Returns the image as the service now has
 * it, with the IDs of the read when one was needed to see it.
 */
export async function updateImageSource(client: GraphClient, id: string, sourceImageResourceId: string): Promise<ImageRead> {
  const path = `${IMAGES_PATH}/${encodeURIComponent(id)}`
  try {
    const response = await client.request<DeviceImage>({
      method: 'PATCH',
      path,
      body: { sourceImageResourceId } satisfies ImageSourcePatch
    })
    if (response.body?.id) return { image: response.body }
  } catch (error) {
    if (!(error instanceof OutcomeUnknownError)) throw error
  }
  // 204, or an unknown outcome: the image as it is now tells whether the change took effect.
  const read = await readImage(client, id)
  if (!isSameSource(read.image.sourceImageResourceId, sourceImageResourceId))
    throw new ActionError(
      'Image update failed',
      `Image ${id} still has the source ${read.image.sourceImageResourceId} after the update.`
    )
  return read
}
