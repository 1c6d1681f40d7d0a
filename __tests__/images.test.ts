import { isSameImage, isSameSource, usesImage } from '../src/graph/model.js'
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { ActionError, GraphError } from '../src/core/errors.js'
import { GraphClient } from '../src/graph/client.js'
import {
  createImage,
  deleteImage,
  isUnknownAction,
  readImage,
  requestUploadRetry,
  updateImageSource
} from '../src/graph/images.js'
import { Requester } from '../src/http/requester.js'
import { FakeClock } from './helpers/fake-clock.js'
import { RecordingLogger } from './helpers/recording-logger.js'
import { OTHER_SOURCE, SOURCE } from './helpers/run-in-process.js'

const graphError = (status: number, message: string) =>
  new GraphError({ method: 'POST', path: '/deviceImages/x/retryUpload', status, code: 'BadRequest', message })

describe('matching', () => {
  it('matches the name in any case and trimmed, and the version exactly', () => {
    const key = { displayName: 'Win11-Dev', version: '1.4.0' }
    expect(isSameImage({ displayName: ' WIN11-dev ', version: '1.4.0' }, key)).toBe(true)
    expect(isSameImage({ displayName: 'Win11-Dev', version: '1.4.1' }, key)).toBe(false)
    expect(isSameImage({ displayName: 'Win11-Dev-2', version: '1.4.0' }, key)).toBe(false)
    expect(isSameImage({ displayName: null as unknown as string, version: '1.4.0' }, key)).toBe(false)
  })

  it('compares sources case-insensitively, trimmed', () => {
    expect(isSameSource(` ${SOURCE.toUpperCase()} `, SOURCE.toLowerCase())).toBe(true)
    expect(isSameSource(OTHER_SOURCE, SOURCE)).toBe(false)
    expect(isSameSource(null, SOURCE)).toBe(false)
  })

  it('knows a policy uses an image by its ID, in any case', () => {
    expect(usesImage({ id: 'p', imageId: 'ABC' }, 'abc')).toBe(true)
    expect(usesImage({ id: 'p', imageId: 'abd' }, 'abc')).toBe(false)
    expect(usesImage({ id: 'p', imageId: null }, 'abc')).toBe(false)
  })
})

describe('isUnknownAction', () => {
  it.each([
    [404, 'Not Found', true],
    [405, 'The HTTP method is not supported', true],
    [400, "Resource not found for the segment 'retryUpload'.", true],
    [400, "resource not found for the segment 'RETRYUPLOAD'", true],
    [400, "The segment 'retryUpload' was not found.", true],
    [400, 'Only an image whose upload failed can be retried.', false],
    [409, 'Conflict', false],
    [500, "Resource not found for the segment 'retryUpload'.", false]
  ])('HTTP %i "%s" → %s', (status, message, unknown) => {
    expect(isUnknownAction(graphError(status, message))).toBe(unknown)
  })

  it('is false for anything but a Graph answer', () => {
    expect(isUnknownAction(new Error("Resource not found for the segment 'retryUpload'."))).toBe(false)
  })
})

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

function clientFor(e: Emulator): GraphClient {
  const token = e.issueToken()
  const logger = new RecordingLogger()
  return new GraphClient({
    graphEndpoint: e.url,
    logger,
    requester: new Requester({ clock: new FakeClock(), logger, retry: { baseDelayMs: 1, maxDelayMs: 1, stepBudgetMs: 10 } }),
    tokens: {
      description: 'test token',
      renewable: false,
      getToken: async () => token,
      invalidate: () => undefined,
      expiresAt: () => undefined
    }
  })
}

describe('createImage after a lost answer', () => {
  const key = { displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: SOURCE }

  it('adopts the image the create made', async () => {
    emulator = await startEmulator({
      faults: [{ method: 'POST', path: /deviceImages$/, times: 1, fault: { kind: 'commitThenDrop' } }]
    })
    const outcome = await createImage(clientFor(emulator), key, new RecordingLogger())
    expect(outcome).toMatchObject({ kind: 'adopted', image: { id: emulator.images()[0].id } })
    expect(emulator.images()).toHaveLength(1)
  })

  it('does not adopt a same-name image built from another source: another run is publishing it', async () => {
    // The create is lost before it commits, and the list then finds another run's image.
    emulator = await startEmulator({
      knobs: { duplicateOnCreate: 'allow' },
      images: [{ id: '11111111-aaaa-4aaa-8aaa-111111111111', ...key, sourceImageResourceId: OTHER_SOURCE }],
      faults: [{ method: 'POST', path: /deviceImages$/, times: 1, fault: { kind: 'drop' } }]
    })
    const error = await createImage(clientFor(emulator), key, new RecordingLogger()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ActionError)
    expect((error as ActionError).title).toBe('Image exists with another source')
    expect((error as ActionError).message).toContain(OTHER_SOURCE)
    expect(emulator.images()).toHaveLength(1)
  })
})

const IMAGE_ID = '11111111-aaaa-4aaa-8aaa-111111111111'
const key = { displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: SOURCE }
const requestsTo = (e: Emulator, method: string, pattern: RegExp) =>
  e.requests.filter(r => r.method === method && pattern.test(r.path)).length

describe('readImage', () => {
  it.each(['null', '"ready"'])('refuses an answer that is not an image: %s', async body => {
    emulator = await startEmulator({
      images: [{ id: IMAGE_ID, ...key }],
      faults: [{ method: 'GET', path: /deviceImages\/[^/]+$/, fault: { kind: 'malformed', status: 200, body } }]
    })
    await expect(readImage(clientFor(emulator), IMAGE_ID)).rejects.toMatchObject({ title: 'Unexpected Graph answer' })
  })
})

describe('createImage', () => {
  it('creates when nothing was lost', async () => {
    emulator = await startEmulator()
    const outcome = await createImage(clientFor(emulator), key, new RecordingLogger())
    expect(outcome).toMatchObject({ kind: 'created', image: { id: emulator.images()[0].id } })
  })

  it('sends the create again when the list after a lost answer shows only other versions and names', async () => {
    emulator = await startEmulator({
      images: [
        { displayName: 'Win11-Dev', version: '1.3.0', sourceImageResourceId: SOURCE },
        { displayName: 'Win11-Design', version: '1.4.0', sourceImageResourceId: SOURCE }
      ],
      faults: [{ method: 'POST', path: /deviceImages$/, times: 1, fault: { kind: 'drop' } }]
    })
    const outcome = await createImage(clientFor(emulator), key, new RecordingLogger())
    expect(outcome.kind).toBe('created')
    expect(requestsTo(emulator, 'POST', /deviceImages$/)).toBe(2)
    expect(emulator.images().filter(i => i.version === '1.4.0' && i.displayName === 'Win11-Dev')).toHaveLength(1)
  })

  it('settles a 201 without the image by listing, and creates once', async () => {
    emulator = await startEmulator({
      faults: [{ method: 'POST', path: /deviceImages$/, times: 1, fault: { kind: 'malformed', status: 201, body: '{}' } }]
    })
    const outcome = await createImage(clientFor(emulator), key, new RecordingLogger())
    expect(outcome.kind).toBe('created')
    expect(requestsTo(emulator, 'POST', /deviceImages$/)).toBe(2)
    expect(emulator.images()).toHaveLength(1)
  })
})

describe('requestUploadRetry', () => {
  const failedImage = { id: IMAGE_ID, ...key, status: 'failed' as const, errorCode: 'internalServerError' }

  it('sends a repeat after a lost answer straight to the route that took the first request', async () => {
    emulator = await startEmulator({
      images: [failedImage],
      knobs: { retryUpload: 405, reupload: 'working' },
      faults: [{ method: 'POST', path: /reupload$/, times: 1, fault: { kind: 'drop' } }]
    })
    const client = clientFor(emulator)
    const { image } = await readImage(client, IMAGE_ID)
    expect(await requestUploadRetry(client, image, undefined, new RecordingLogger())).toBe('reupload')
    expect(requestsTo(emulator, 'POST', /retryUpload$/)).toBe(1)
    expect(requestsTo(emulator, 'POST', /reupload$/)).toBe(2)
  })

  it('reads after a lost answer, and takes a refused repeat as the sign the first one started the upload', async () => {
    // The first request is taken but its answer lost; reads still show the failure from before it,
    // so it is sent again, and the service refuses the repeat: the upload runs.
    emulator = await startEmulator({
      images: [failedImage],
      knobs: { staleReadsAfterRetryMs: 60_000 },
      faults: [{ method: 'POST', path: /retryUpload$/, times: 1, fault: { kind: 'commitThenDrop' } }]
    })
    const client = clientFor(emulator)
    const { image } = await readImage(client, IMAGE_ID)
    expect(await requestUploadRetry(client, image, undefined, new RecordingLogger())).toBe('retryUpload')
    expect(requestsTo(emulator, 'POST', /retryUpload$/)).toBe(2)
    expect(requestsTo(emulator, 'GET', /deviceImages\/[^/]+$/)).toBe(2)
  })
})

describe('deleteImage', () => {
  const logger = new RecordingLogger()
  const oneImage = { images: [{ id: IMAGE_ID, ...key }] }

  it('settles a lost answer by listing: deleted, so not sent again', async () => {
    emulator = await startEmulator({ ...oneImage, faults: [{ method: 'DELETE', fault: { kind: 'commitThenDrop' } }] })
    await deleteImage(clientFor(emulator), IMAGE_ID, logger)
    expect(requestsTo(emulator, 'DELETE', /./)).toBe(1)
    expect(emulator.images()).toEqual([])
  })

  it('settles a lost answer by listing: still there, so sent again', async () => {
    emulator = await startEmulator({ ...oneImage, faults: [{ method: 'DELETE', fault: { kind: 'drop' } }] })
    await deleteImage(clientFor(emulator), IMAGE_ID, logger)
    expect(requestsTo(emulator, 'DELETE', /./)).toBe(2)
    expect(emulator.images()).toEqual([])
  })

  it('takes an image already gone as deleted, and passes a refusal on', async () => {
    emulator = await startEmulator({ ...oneImage, policies: [{ displayName: 'Developers', imageId: IMAGE_ID }] })
    const client = clientFor(emulator)
    await expect(deleteImage(client, 'no-such-image', logger)).resolves.toBeUndefined()
    await expect(deleteImage(client, IMAGE_ID, logger)).rejects.toMatchObject({ status: 409 })
    expect(emulator.images()).toHaveLength(1)
  })
})

describe('updateImageSource', () => {
  const failed = { images: [{ id: IMAGE_ID, ...key, status: 'failed' as const, errorCode: 'sourceImageInvalid' }] }

  it('uses the image a 200 answer carries, without reading it again', async () => {
    emulator = await startEmulator({ ...failed, knobs: { imagePatch: 'accept200' } })
    const read = await updateImageSource(clientFor(emulator), IMAGE_ID, OTHER_SOURCE, new RecordingLogger())
    expect(read.image.sourceImageResourceId).toBe(OTHER_SOURCE)
    expect(requestsTo(emulator, 'GET', /deviceImages\/[^/]+$/)).toBe(0)
  })

  it('reads after a 204, and sends the change again after a lost answer', async () => {
    emulator = await startEmulator({
      ...failed,
      knobs: { imagePatch: 'accept204' },
      faults: [{ method: 'PATCH', times: 1, fault: { kind: 'drop' } }]
    })
    const read = await updateImageSource(clientFor(emulator), IMAGE_ID, OTHER_SOURCE, new RecordingLogger())
    expect(read.image.sourceImageResourceId).toBe(OTHER_SOURCE)
    expect(read.ids?.requestId).toBeTruthy()
    expect(requestsTo(emulator, 'PATCH', /./)).toBe(2)
  })

  it('fails when a 204 did not change the source', async () => {
    emulator = await startEmulator({
      ...failed,
      knobs: { imagePatch: 'accept204' },
      faults: [{ method: 'PATCH', times: 1, fault: { kind: 'malformed', status: 204, body: '' } }]
    })
    await expect(updateImageSource(clientFor(emulator), IMAGE_ID, OTHER_SOURCE, new RecordingLogger())).rejects.toMatchObject({
      title: 'Image update failed',
      message: `Image ${IMAGE_ID} still has the source ${SOURCE} after the update.`
    })
  })
})
