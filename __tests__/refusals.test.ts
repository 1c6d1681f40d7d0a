// One vocabulary for "the service refused": absent (404), refused for the caller's access (401,
// 403), refused the request itself (another 4xx). A permission problem is never read as a verdict
// on the request, and always reaches the user with the permission hint.
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type SeedImage, startEmulator } from '../emulator/index.js'
import { ArmError, GraphError, isAuthRefusal, isNotFound, isRefusal, OutcomeUnknownError } from '../src/core/errors.js'
import { baseInputs, runInProcess, SOURCE } from './helpers/run-in-process.js'

const IMAGE_ID = '11111111-aaaa-4aaa-8aaa-111111111111'
const PERMISSION = 'CloudPC.ReadWrite.All'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

const graphError = (status: number) =>
  new GraphError({ method: 'POST', path: '/deviceManagement/virtualEndpoint/deviceImages', status, code: 'x', message: 'no' })
const armError = (status: number) =>
  new ArmError({ path: '/subscriptions/x', status, code: 'x', message: 'no', clientRequestId: 'c' })

describe('the refusal vocabulary', () => {
  it.each([
    [400, false, false, true],
    [401, false, true, false],
    [403, false, true, false],
    [404, true, false, true],
    [405, false, false, true],
    [409, false, false, true],
    [429, false, false, true],
    [500, false, false, false],
    [503, false, false, false]
  ])('a Graph answer %i: not found %s, auth refusal %s, refusal %s', (status, notFound, auth, refusal) => {
    expect(isNotFound(graphError(status))).toBe(notFound)
    expect(isAuthRefusal(graphError(status))).toBe(auth)
    expect(isRefusal(graphError(status))).toBe(refusal)
  })

  it('reads Azure Resource Manager answers the same way', () => {
    expect(isNotFound(armError(404))).toBe(true)
    expect(isAuthRefusal(armError(403))).toBe(true)
    expect(isRefusal(armError(400))).toBe(true)
    expect(isRefusal(armError(403))).toBe(false)
  })

  it.each([
    ['a lost answer', new OutcomeUnknownError('POST', '/x', 'HTTP 500')],
    ['a plain error', new Error('HTTP 404')],
    ['a value', { status: 404 }]
  ])('%s is none of them', (_name, error) => {
    expect([isNotFound(error), isAuthRefusal(error), isRefusal(error)]).toEqual([false, false, false])
  })

  it('a permission problem carries the permission hint in what the run reports', () => {
    expect(graphError(403).failure.message).toContain(PERMISSION)
    expect(graphError(401).failure.message).toMatch(/refused the token/)
    expect(graphError(400).failure.message).toBe(graphError(400).message)
  })
})

describe('a permission problem against the emulator', () => {
  const failed: SeedImage = {
    id: IMAGE_ID,
    displayName: 'Win11-Dev',
    version: '1.4.0',
    sourceImageResourceId: SOURCE,
    status: 'failed',
    errorCode: 'internalServerError'
  }

  it('an upload retry forbidden ends on the permission hint, not as a retry the service refused', async () => {
    emulator = await startEmulator({
      images: [failed],
      faults: [{ method: 'POST', path: /\/retryUpload$/, fault: { kind: 'status', status: 403, code: 'Forbidden' } }]
    })
    const r = await runInProcess(baseInputs(emulator))
    expect(r.code).toBe(1)
    const [error] = r.logger.of('error')
    expect(error.title).not.toBe('Upload retry refused')
    expect(error.message).toContain('HTTP 403')
    expect(error.message).toContain(PERMISSION)
  })

  it('a delete forbidden after a success is a warning with the permission hint', async () => {
    const old: SeedImage = {
      id: '00000000-0000-4000-8000-000000000001',
      displayName: 'Win11-Dev',
      version: '1.0.0',
      sourceImageResourceId: SOURCE
    }
    emulator = await startEmulator({
      images: [old],
      defaultUpload: [{ pendingMs: 50, outcome: 'ready' }],
      faults: [{ method: 'DELETE', fault: { kind: 'status', status: 403, code: 'Forbidden' } }]
    })
    const r = await runInProcess(baseInputs(emulator, { keepVersions: '1' }))
    expect(r.code).toBe(0)
    const [warning] = r.logger.of('warning')
    expect(warning.title).toBe('Old image not deleted')
    expect(warning.message).toContain(old.id)
    expect(warning.message).toContain(PERMISSION)
  })
})
