import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, type SeedImage, startEmulator } from '../emulator/index.js'
import { baseInputs, OTHER_SOURCE, runInProcess, SOURCE } from './helpers/run-in-process.js'
import { guid } from './helpers/ids.js'

const IMAGE_ID = '11111111-aaaa-4aaa-8aaa-111111111111'
const POLICY_ID = '22222222-bbbb-4bbb-8bbb-222222222222'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

async function start(existing: Partial<SeedImage> | undefined, options: EmulatorOptions = {}): Promise<Emulator> {
  const images: SeedImage[] = existing
    ? [{ id: IMAGE_ID, displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: SOURCE, status: 'ready', ...existing }]
    : []
  emulator = await startEmulator({ images, defaultUpload: [{ pendingMs: 100, outcome: 'ready' }], ...options })
  return emulator
}

const writes = (e: Emulator) => e.writes().map(w => `${w.method} ${w.route}`)

describe('onExisting', () => {
  it('reuse: waits on a pending image built from the same source, writing nothing', async () => {
    const e = await start({ status: undefined, attempts: [{ pendingMs: 200, outcome: 'ready' }] })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual([])
    expect(r.outputs).toMatchObject({ result: 'reused', status: 'ready', imageId: IMAGE_ID, uploadAttempts: '1' })
  })

  it('reuse: retries an image that had failed before, whatever its code, once', async () => {
    const e = await start({ status: 'failed', errorCode: 'sourceImageNotGeneralized' })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual(['POST deviceImages.retryUpload'])
    expect(r.outputs).toMatchObject({ result: 'reused', status: 'ready', uploadAttempts: '2' })
  })

  it('reuse: after that one retry, the normal rules apply to the same code', async () => {
    const e = await start(
      { status: 'failed', errorCode: 'sourceImageNotGeneralized' },
      {
        uploadScripts: [
          {
            match: { displayName: 'Win11-Dev' },
            attempts: [
              { pendingMs: 0, outcome: 'failed' },
              { pendingMs: 100, outcome: 'failed', errorCode: 'sourceImageNotGeneralized' }
            ]
          }
        ]
      }
    )
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    expect(writes(e)).toEqual(['POST deviceImages.retryUpload'])
    expect(r.outputs).toMatchObject({ status: 'failed', errorCode: 'sourceImageNotGeneralized', uploadAttempts: '2' })
  })

  it('reuse: a failed image is not retried when maxUploadRetries is 0', async () => {
    const e = await start({ status: 'failed', errorCode: 'internalServerError' })
    const r = await runInProcess(baseInputs(e, { maxUploadRetries: '0' }))
    expect(r.code).toBe(1)
    expect(writes(e)).toEqual([])
    // Known from the list, the failure is quoted with the IDs of a read of the image itself.
    const read = e.requests.filter(x => x.route === 'deviceImages.get').at(-1)!
    const [error] = r.logger.of('error')
    expect(error.message).toContain(`client-request-id: ${read.headers['client-request-id']}]`)
    expect(error.message).toMatch(/request-id: [0-9a-f-]{36};/)
  })

  it('reuse with wait: false: a failed image that is not retried is quoted with the IDs of its read', async () => {
    const e = await start({ status: 'failed', errorCode: 'sourceImageNotGeneralized' })
    const r = await runInProcess(baseInputs(e, { wait: 'false', maxUploadRetries: '0' }))
    expect(r.code).toBe(1)
    const read = e.requests.filter(x => x.route === 'deviceImages.get').at(-1)!
    expect(r.logger.of('error')[0].message).toContain(`client-request-id: ${read.headers['client-request-id']}]`)
  })

  it('update: same source behaves as reuse', async () => {
    const e = await start({}, { knobs: { imagePatch: 'accept200' } })
    const r = await runInProcess(baseInputs(e, { onExisting: 'update' }))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual([])
    expect(r.outputs.result).toBe('reused')
  })

  const failedOther = { sourceImageResourceId: OTHER_SOURCE, status: 'failed' as const, errorCode: 'sourceImageNotGeneralized' }

  it.each(['accept200', 'accept204'] as const)(
    'update: a failed image with another source is PATCHed (%s), uploaded again and waited for',
    async answer => {
      const e = await start(failedOther, { knobs: { imagePatch: answer } })
      // The upload of the new source does not use up maxUploadRetries.
      const r = await runInProcess(baseInputs(e, { onExisting: 'update', maxUploadRetries: '0' }))
      expect(r.logger.of('error')).toEqual([])
      expect(r.code).toBe(0)
      expect(writes(e)).toEqual(['PATCH deviceImages.update', 'POST deviceImages.retryUpload'])
      expect(JSON.parse(e.writes()[0].body)).toEqual({ sourceImageResourceId: SOURCE })
      expect(e.images()[0].sourceImageResourceId).toBe(SOURCE)
      expect(r.outputs).toMatchObject({ result: 'updated', status: 'ready', uploadAttempts: '2', imageId: IMAGE_ID })
      // One read between the PATCH and the retry: it confirms the source (204) or gives the IDs (200), never both.
      const routes = e.requests.map(x => x.route)
      const between = routes.slice(routes.indexOf('deviceImages.update') + 1, routes.indexOf('deviceImages.retryUpload'))
      expect(between).toEqual(['deviceImages.get'])
    }
  )

  it.each(['ready', 'pending', 'warning'] as const)(
    'update: a %s image with another source is refused before any write, naming both sources',
    async status => {
      const e = await start({ sourceImageResourceId: OTHER_SOURCE, status }, { knobs: { imagePatch: 'accept200' } })
      const r = await runInProcess(baseInputs(e, { onExisting: 'update' }))
      expect(r.code).toBe(1)
      expect(writes(e)).toEqual([])
      const [error] = r.logger.of('error')
      expect(error.title).toBe('Image cannot be updated')
      expect(error.message).toContain(OTHER_SOURCE)
      expect(error.message).toContain(SOURCE)
      expect(error.message).toMatch(/onExisting to replace .* or publish a new version \(for example 1\.4\.1\)/)
      expect(r.outputs.result).toBeUndefined()
      expect(e.images()[0].sourceImageResourceId).toBe(OTHER_SOURCE)
    }
  )

  it('update: an upload retry the service refuses after the PATCH fails the step, and nothing is reported updated', async () => {
    const e = await start(failedOther, {
      knobs: { imagePatch: 'accept204' },
      faults: [{ method: 'POST', path: /\/retryUpload$/, fault: { kind: 'status', status: 400, code: 'BadRequest' } }]
    })
    const r = await runInProcess(baseInputs(e, { onExisting: 'update' }))
    expect(r.code).toBe(1)
    expect(writes(e)).toEqual(['PATCH deviceImages.update', 'POST deviceImages.retryUpload'])
    expect(r.outputs).toMatchObject({ status: 'failed', imageId: IMAGE_ID, uploadAttempts: '1' })
    expect(r.outputs.result).toBeUndefined()
    const [error] = r.logger.of('error')
    expect(error.message).toMatch(/refused the upload retry .*code: badRequest/i)
    expect(error.message).not.toMatch(/sysprep/)
    expect(error.title).toBe('Upload retry refused')
    expect(error.message).toMatch(/The new source was not uploaded.*Set onExisting to replace/)
    expect(r.summary).not.toMatch(/updated/)
  })

  it('update: a PATCH that starts an upload itself is waited on, with no retry asked of a pending image', async () => {
    const e = await start(failedOther, { knobs: { imagePatch: 'accept204', imagePatchStartsUpload: true } })
    const r = await runInProcess(baseInputs(e, { onExisting: 'update' }))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    // retryUpload is documented for failed images only: the pending image read after the PATCH is not retried.
    expect(writes(e)).toEqual(['PATCH deviceImages.update'])
    expect(r.outputs).toMatchObject({ result: 'updated', status: 'ready', uploadAttempts: '1' })
    expect(e.images()[0].sourceImageResourceId).toBe(SOURCE)
  })

  it('update: with wait: false the source change and the retry are reported as asked for, not as updated', async () => {
    const e = await start(failedOther, { knobs: { imagePatch: 'accept200' } })
    const r = await runInProcess(baseInputs(e, { onExisting: 'update', wait: 'false' }))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual(['PATCH deviceImages.update', 'POST deviceImages.retryUpload'])
    expect(r.outputs.result).toBeUndefined()
    expect(r.report.outcome).toBe('submitted')
    expect(r.logger.of('notice')[0].message).toMatch(/asked for, not seen to succeed/)
  })

  it('update: a PATCH refused for lack of permission gets the permission hint, not the onExisting remedy', async () => {
    const e = await start(failedOther, {
      knobs: { imagePatch: 'accept200' },
      faults: [{ method: 'PATCH', path: /\/deviceImages\/[^/]+$/, fault: { kind: 'status', status: 403, code: 'Forbidden' } }]
    })
    const r = await runInProcess(baseInputs(e, { onExisting: 'update' }))
    expect(r.code).toBe(1)
    expect(writes(e)).toEqual(['PATCH deviceImages.update'])
    const [error] = r.logger.of('error')
    expect(error.message).toContain('HTTP 403')
    expect(error.message).toContain('CloudPC.ReadWrite.All')
    expect(error.message).not.toMatch(/onExisting/)
    expect(r.report.failure?.message).toBe(error.message)
    expect(e.images()[0].sourceImageResourceId).toBe(OTHER_SOURCE)
  })

  it.each([405, 400] as const)(
    'update: a PATCH rejected with %i fails with the service error and suggests replace or a new version',
    async status => {
      const e = await start(failedOther, { knobs: { imagePatch: status } })
      const r = await runInProcess(baseInputs(e, { onExisting: 'update' }))
      expect(r.code).toBe(1)
      expect(writes(e)).toEqual(['PATCH deviceImages.update'])
      const [error] = r.logger.of('error')
      expect(error.title).toBe('Image update refused')
      expect(error.message).toContain(`HTTP ${status}`)
      expect(error.message).toMatch(/request-id: [0-9a-f-]{36}/)
      expect(error.message).toMatch(/onExisting to replace .* or publish a new version/)
      expect(e.images()[0].sourceImageResourceId).toBe(OTHER_SOURCE)
    }
  )

  it.each([SOURCE, OTHER_SOURCE])(
    'replace: deletes and creates anew when no policy uses the image (existing source %s)',
    async source => {
      const e = await start({ sourceImageResourceId: source })
      const r = await runInProcess(baseInputs(e, { onExisting: 'replace' }))
      expect(r.code).toBe(0)
      expect(writes(e)).toEqual(['DELETE deviceImages.delete', 'POST deviceImages.create'])
      const images = e.images()
      expect(images).toHaveLength(1)
      expect(images[0].id).not.toBe(IMAGE_ID)
      expect(images[0].sourceImageResourceId).toBe(SOURCE)
      expect(r.outputs).toMatchObject({ result: 'replaced', status: 'ready', imageId: images[0].id })
    }
  )

  it('replace: refuses while a provisioning policy uses the image, naming it', async () => {
    const e = await start(
      {},
      { policies: [{ id: POLICY_ID, displayName: 'Developers', imageId: IMAGE_ID, imageType: 'custom' }] }
    )
    const r = await runInProcess(baseInputs(e, { onExisting: 'replace' }))
    expect(r.code).toBe(1)
    expect(writes(e)).toEqual([])
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Image in use',
      message: expect.stringContaining(`"Developers" ${POLICY_ID}`)
    })
  })

  it.each([SOURCE, OTHER_SOURCE])('fail: refuses an existing image (source %s), naming it', async source => {
    const e = await start({ sourceImageResourceId: source })
    const r = await runInProcess(baseInputs(e, { onExisting: 'fail' }))
    expect(r.code).toBe(1)
    expect(writes(e)).toEqual([])
    expect(r.logger.of('error')[0]).toMatchObject({ title: 'Image already exists', message: expect.stringContaining(IMAGE_ID) })
    expect(r.outputs.imageId).toBe(IMAGE_ID)
  })
})

describe('an upload another run restarts just before this run asks for its retry', () => {
  // The service refuses the retry of an image whose upload runs (knob retryOnNonFailed): the read
  // after the refusal shows the upload under way, under either wait setting.
  const restartBeforeRetry = (e: Emulator, then?: (e: Emulator) => void) =>
    e.before({ method: 'POST', path: /\/retryUpload$/ }, emu => {
      emu.flip(IMAGE_ID, 'pending')
      then?.(emu)
    })

  it('wait: false: ends submitted with the upload under way, exit 0', async () => {
    const e = await start({ status: 'failed', errorCode: 'internalServerError' })
    restartBeforeRetry(e)
    const r = await runInProcess(baseInputs(e, { wait: 'false' }))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual(['POST deviceImages.retryUpload'])
    expect(r.report.outcome).toBe('submitted')
    expect(r.outputs).toMatchObject({ status: 'pending', imageId: IMAGE_ID, result: 'reused' })
    expect(r.logger.of('notice').map(n => n.message)).toContainEqual(
      expect.stringMatching(new RegExp(`image ${IMAGE_ID} is pending; the upload goes on in the service`))
    )
  })

  it('wait: true: waits on the upload under way until it is ready', async () => {
    const image = new RegExp(`/deviceImages/${IMAGE_ID}$`)
    const e = await start({ status: 'failed', errorCode: 'internalServerError' })
    // The read after the refusal shows it pending; the one after that, ready.
    restartBeforeRetry(e, emu =>
      emu.before({ method: 'GET', path: image }, () =>
        emu.before({ method: 'GET', path: image }, () => emu.flip(IMAGE_ID, 'ready'))
      )
    )
    const r = await runInProcess(baseInputs(e))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual(['POST deviceImages.retryUpload'])
    expect(r.outputs).toMatchObject({ status: 'ready', result: 'reused' })
  })
})

describe('the 20-image limit', () => {
  const full = (used: number[]): EmulatorOptions => ({
    images: Array.from({ length: 20 }, (_, i) => ({
      id: guid('00000000', i),
      displayName: `Old-${i}`,
      version: '1.0.0',
      sourceImageResourceId: SOURCE,
      // Listed newest first, so the message has to sort.
      lastModifiedDateTime: new Date(Date.UTC(2026, 0, 20 - i)).toISOString()
    })),
    policies: used.map(i => ({
      displayName: `Policy ${i}`,
      imageId: guid('00000000', i),
      imageType: 'custom' as const
    }))
  })

  it('lists the images no policy uses, oldest first, before trying to create', async () => {
    emulator = await startEmulator(full([19, 5]))
    const r = await runInProcess(baseInputs(emulator))
    expect(r.code).toBe(1)
    expect(emulator.writes()).toEqual([])
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Tenant image limit reached')
    const listed = [...error.message.matchAll(/"(Old-\d+)"/g)].map(m => m[1])
    expect(listed).toEqual([18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 4, 3, 2, 1, 0].map(i => `Old-${i}`))
    // One image per line, readable in an annotation.
    const lines = error.message.split('\n')
    expect(lines.filter(line => line.startsWith('- "Old-'))).toHaveLength(18)
    expect(Math.max(...lines.map(line => line.length))).toBeLessThan(200)
  })

  it('says how many images the tenant holds when the service refuses a create for a reason the action cannot name', async () => {
    emulator = await startEmulator({
      images: Array.from({ length: 7 }, (_, i) => ({ displayName: `Old-${i}`, version: '1.0.0', sourceImageResourceId: SOURCE })),
      faults: [{ method: 'POST', path: /deviceImages$/, fault: { kind: 'status', status: 400, code: 'BadRequest' } }]
    })
    const r = await runInProcess(baseInputs(emulator))
    expect(r.code).toBe(1)
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Image create refused')
    expect(error.message).toMatch(/code: BadRequest; request-id: [0-9a-f-]{36}/i)
    expect(error.message).toContain('The tenant holds 7 of the 20 custom images Windows 365 allows.')
  })

  it('says when every image is in use', async () => {
    emulator = await startEmulator(full(Array.from({ length: 20 }, (_, i) => i)))
    const r = await runInProcess(baseInputs(emulator))
    expect(r.logger.of('error')[0].message).toMatch(/Every image is used by a provisioning policy/)
  })

  it('still reuses an existing image in a full tenant', async () => {
    const options = full([])
    options.images![3] = { ...options.images![3], displayName: 'Win11-Dev', version: '1.4.0' }
    emulator = await startEmulator(options)
    const r = await runInProcess(baseInputs(emulator))
    expect(r.code).toBe(0)
    expect(r.outputs.result).toBe('reused')
  })
})

describe('dry run', () => {
  it.each([
    ['nothing exists', undefined, 'reuse', {}, 0, /No image "Win11-Dev" version 1\.4\.0 exists: create it/],
    ['reuse', {}, 'reuse', {}, 0, /exists .* with the same source: reuse it/],
    [
      'reuse of a failed image',
      { status: 'failed' as const, errorCode: 'internalServerError' },
      'reuse',
      {},
      0,
      /reuse it and retry its failed upload/
    ],
    ['reuse of another source', { sourceImageResourceId: OTHER_SOURCE }, 'reuse', {}, 1, /Publish it as a new version/],
    [
      'update',
      { sourceImageResourceId: OTHER_SOURCE, status: 'failed' as const, errorCode: 'sourceImageNotGeneralized' },
      'update',
      { knobs: { imagePatch: 'accept200' as const } },
      0,
      /change its source to/
    ],
    ['update of a ready image', { sourceImageResourceId: OTHER_SOURCE }, 'update', {}, 1, /onExisting to replace/],
    ['replace', {}, 'replace', {}, 0, /delete it and create it anew/],
    [
      'replace of an image in use',
      {},
      'replace',
      { policies: [{ id: POLICY_ID, displayName: 'Developers', imageId: IMAGE_ID }] },
      1,
      /provisioning policies use it/
    ],
    ['fail', {}, 'fail', {}, 1, /onExisting is fail/]
  ])('%s: reads only, and plans', async (_name, existing, onExisting, options, code, message) => {
    const e = await start(existing, options)
    const r = await runInProcess(baseInputs(e, { onExisting, dryRun: 'true' }))
    expect(r.code).toBe(code)
    expect(e.writes()).toEqual([])
    expect(e.requests.filter(x => x.route !== 'token').every(x => x.method === 'GET')).toBe(true)
    if (code === 0) {
      expect(r.outputs.result).toBe('planned')
      expect(r.report.plan.join('\n')).toMatch(message)
      expect(r.summary).toContain('dry run')
      expect(r.outputs.uploadAttempts).toBeUndefined()
    } else expect(r.logger.of('error')[0].message).toMatch(message)
    if (existing) expect(r.outputs.imageId).toBe(IMAGE_ID)
  })

  it('a full tenant makes the plan impossible', async () => {
    emulator = await startEmulator({
      images: Array.from({ length: 20 }, (_, i) => ({ displayName: `Old-${i}`, version: '1.0.0', sourceImageResourceId: SOURCE }))
    })
    const r = await runInProcess(baseInputs(emulator, { dryRun: 'true' }))
    expect(r.code).toBe(1)
    expect(emulator.writes()).toEqual([])
    expect(r.logger.of('error')[0].title).toBe('Tenant image limit reached')
  })
})
