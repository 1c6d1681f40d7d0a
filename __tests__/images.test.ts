import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { ActionError, GraphError } from '../src/errors.js'
import { GraphClient } from '../src/graph-client.js'
import { createImage, isUnknownAction } from '../src/images.js'
import { Requester } from '../src/requester.js'
import { FakeClock } from './helpers/fake-clock.js'
import { RecordingLogger } from './helpers/recording-logger.js'
import { OTHER_SOURCE, SOURCE } from './helpers/run-in-process.js'

const graphError = (status: number, message: string) =>
  new GraphError({ method: 'POST', path: '/deviceImages/x/retryUpload', status, code: 'BadRequest', message })

describe('isUnknownAction', () => {
  it.each([
    [404, 'Not Found', true],
    [405, 'The HTTP method is not supported', true],
    [400, "Resource not found for the segment 'retryUpload'.", true],
    [400, "resource not found for the segment 'RETRYUPLOAD'", true],
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
