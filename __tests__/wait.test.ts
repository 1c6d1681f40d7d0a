import { describe, expect, it } from '@jest/globals'
import { DeadlineError, GraphError, OutcomeUnknownError, ThrottledError } from '../src/core/errors.js'
import type { DeviceImage } from '../src/graph/model.js'
import { isStaleFailure, staleGraceMs } from '../src/graph/read-lag.js'
import {
  decideStep,
  firstRetryState,
  type RetryStart,
  type StepContext,
  uploadStep,
  waitForImage,
  type WaitOptions
} from '../src/publish/wait.js'
import { FakeClock } from './helpers/fake-clock.js'
import { RecordingLogger } from './helpers/recording-logger.js'

const base: DeviceImage = {
  id: 'img-1',
  displayName: 'Win11',
  version: '1.0.0',
  sourceImageResourceId: '/subscriptions/x',
  status: 'pending',
  errorCode: null
}
const image = (status: string | null, errorCode: string | null = null): DeviceImage => ({ ...base, status, errorCode })

const ctx = (retriesUsed: number, maxRetries: number, more: Partial<StepContext> = {}): StepContext => ({
  retriesUsed,
  maxRetries,
  now: 0,
  ...more
})

describe('decideStep', () => {
  it.each([
    ['ready', null, 0, 2, 'ready'],
    ['READY', null, 0, 2, 'ready'],
    ['warning', null, 0, 2, 'warning'],
    ['Warning', null, 0, 2, 'warning'],
    ['pending', null, 0, 2, 'pending'],
    ['unknownFutureValue', null, 0, 2, 'pending'],
    ['uploading', null, 0, 2, 'pending'],
    [null, null, 0, 2, 'pending'],
    ['failed', 'internalServerError', 0, 2, 'retry'],
    ['FAILED', 'InternalServerError', 1, 2, 'retry'],
    ['failed', null, 0, 2, 'retry'],
    ['failed', 'unknownFutureValue', 0, 2, 'retry'],
    ['failed', 'someCodeFrom2030', 0, 2, 'retry'],
    ['failed', 'internalServerError', 2, 2, 'failed'],
    ['failed', 'sourceImageNotGeneralized', 0, 2, 'failed'],
    ['failed', 'vmAlreadyAzureAdJoined', 0, 2, 'failed'],
    ['failed', 'internalServerError', 0, 0, 'failed']
  ])('status %s, code %s, %i of %i retries used → %s', (status, code, used, max, expected) => {
    expect(decideStep(image(status, code), ctx(used, max)).kind).toBe(expected)
  })

  it('retries an image that had failed before the run once, whatever its code', () => {
    expect(decideStep(image('failed', 'sourceImageNotGeneralized'), ctx(0, 2, { forceRetry: true })).kind).toBe('retry')
    expect(decideStep(image('failed', 'sourceImageNotGeneralized'), ctx(0, 0, { forceRetry: true })).kind).toBe('failed')
  })

  it('asks for the upload of a new source whatever the code and the count', () => {
    expect(decideStep(image('failed', 'sourceImageNotGeneralized'), ctx(0, 0, { freeRetry: true })).kind).toBe('retry')
  })

  it('explains a non-retryable failure and says whether retries ran out', () => {
    const step = decideStep(image('failed', 'sourceImageNotGeneralized'), ctx(0, 2))
    expect(step).toMatchObject({
      kind: 'failed',
      retriesExhausted: false,
      info: { code: 'sourceImageNotGeneralized', remedy: expect.stringMatching(/sysprep/) }
    })
    expect(decideStep(image('failed', 'internalServerError'), ctx(2, 2))).toMatchObject({
      kind: 'failed',
      retriesExhausted: true
    })
  })

  describe('after a retry', () => {
    const before = '2026-11-23T10:00:00Z'
    const inFlight = { baseline: before, graceUntil: 1000 }
    const failedAt = (at: string | undefined) => ({ ...image('failed', 'internalServerError'), lastModifiedDateTime: at })

    it.each([
      ['the same time as the failure retried', before, 'stale'],
      ['an earlier time', '2026-11-23T09:59:59Z', 'stale'],
      ['no time at all', undefined, 'stale'],
      ['a later time', '2026-11-23T10:00:01Z', 'retry']
    ])('a failed read stamped with %s (%s) → %s', (_name, at, kind) => {
      expect(decideStep(failedAt(at), ctx(1, 2, { inFlight, now: 999 })).kind).toBe(kind)
    })

    it('never asks for a second retry because of a stale read, even once the grace is over', () => {
      expect(decideStep(failedAt(before), ctx(1, 2, { inFlight, now: 1000 }))).toMatchObject({
        kind: 'retryNotSeen',
        info: { code: 'internalServerError' }
      })
    })

    it('takes any other status as the retry picked up', () => {
      expect(decideStep({ ...image('pending'), lastModifiedDateTime: before }, ctx(1, 2, { inFlight })).kind).toBe('pending')
    })
  })

  it.each([
    ['failed', '2026-11-23T10:00:00Z', '2026-11-23T10:00:00Z', true],
    ['failed', '2026-11-23T10:00:01Z', '2026-11-23T10:00:00Z', false],
    ['Failed', 'not a time', '2026-11-23T10:00:00Z', true],
    ['pending', '2026-11-23T10:00:00Z', '2026-11-23T10:00:00Z', false]
  ])('isStaleFailure(%s at %s, retry of the failure at %s) is %s', (status, at, baseline, stale) => {
    expect(isStaleFailure({ status, lastModifiedDateTime: at }, baseline)).toBe(stale)
  })

  it('gives a retry at least five minutes or five poll intervals to show', () => {
    expect(staleGraceMs(1000)).toBe(5 * 60_000)
    expect(staleGraceMs(120_000)).toBe(10 * 60_000)
  })
})

type Scripted = [status: string | null, errorCode: string | null, unchanged?: 'unchanged'] | Error

/**
 * Reads return the scripted statuses in order; the last one repeats. Each read is stamped with the
 * time it was made, as a service would stamp a change, unless it is scripted as `unchanged`: then it
 * keeps the timestamp of the read before it, as a read from before a retry would.
 */
function harness(statuses: Scripted[], options: Partial<WaitOptions> = {}, retry?: () => Promise<string>) {
  const clock = new FakeClock()
  const logger = new RecordingLogger()
  const reads: number[] = []
  const retries: number[] = []
  let next = 0
  let stamp = new Date(clock.now()).toISOString()
  const events: string[] = []
  const opts: WaitOptions = { pollIntervalMs: 60_000, timeoutMs: 30 * 60_000, maxUploadRetries: 2, ...options }
  const start = clock.now()
  const go = (initial: DeviceImage, retryStart: Partial<RetryStart> = {}) =>
    waitForImage(
      { image: { ...initial, lastModifiedDateTime: stamp } },
      opts,
      { failedBeforeRun: false, ...retryStart },
      {
        clock,
        logger,
        read: async () => {
          reads.push(clock.now() - start)
          const scripted = statuses[Math.min(next++, statuses.length - 1)]
          if (scripted instanceof Error) throw scripted
          const [status, code, unchanged] = scripted
          if (!unchanged) stamp = new Date(clock.now()).toISOString()
          return {
            image: { ...image(status, code), lastModifiedDateTime: stamp },
            ids: { requestId: `request-${reads.length}`, clientRequestId: `client-${reads.length}` }
          }
        },
        retryUpload: async () => {
          retries.push(clock.now() - start)
          return retry ? retry() : 'retryUpload'
        },
        onImage: () => undefined,
        onStatusChange: status => events.push(status)
      }
    )
  return { clock, logger, reads, retries, events, go, start }
}

describe('waitForImage under a fake clock', () => {
  it('reads once per interval until ready, and not after', async () => {
    const h = harness([
      ['pending', null],
      ['pending', null],
      ['ready', null]
    ])
    const result = await h.go(image('pending'))
    expect(result.kind).toBe('ready')
    expect(h.reads).toEqual([60_000, 120_000, 180_000])
    expect(h.events).toEqual(['pending', 'ready'])
  })

  it('retries a retryable failure and waits on', async () => {
    const h = harness([
      ['failed', 'internalServerError'],
      ['pending', null],
      ['ready', null]
    ])
    const result = await h.go(image('pending'))
    expect(result.kind).toBe('ready')
    expect(h.retries).toEqual([60_000])
    expect(h.events).toEqual(['pending', 'failed', 'pending', 'ready'])
  })

  it('stops retrying after maxUploadRetries, and says how many it used', async () => {
    const h = harness([['failed', 'internalServerError']], { maxUploadRetries: 2 })
    const result = await h.go(image('pending'))
    expect(result).toMatchObject({ kind: 'failed', reason: 'retriesExhausted', retriesUsed: 2 })
    expect(h.retries).toHaveLength(2)
  })

  it('fails at once on a code a retry cannot fix', async () => {
    const h = harness([['failed', 'sourceImageNotGeneralized']])
    const result = await h.go(image('pending'))
    expect(result).toMatchObject({
      kind: 'failed',
      reason: 'final',
      info: { code: 'sourceImageNotGeneralized' },
      ids: { requestId: 'request-1', clientRequestId: 'client-1' }
    })
    expect(h.retries).toEqual([])
  })

  it('ends a warning as success with a warning', async () => {
    const h = harness([['warning', null]])
    expect((await h.go(image('pending'))).kind).toBe('warning')
  })

  it('neither gives up before the deadline nor reads past it by more than one request', async () => {
    const h = harness([['pending', null]], { pollIntervalMs: 70_000, timeoutMs: 5 * 60_000 })
    const result = await h.go(image('pending'))
    expect(result.kind).toBe('timedOut')
    // Reads at 70, 140, 210, 280 s, then one last read exactly at the 300 s deadline.
    expect(h.reads).toEqual([70_000, 140_000, 210_000, 280_000, 300_000])
    expect(h.clock.now() - h.start).toBe(300_000)
  })

  it('keeps waiting on a status it does not know, with a debug line', async () => {
    const h = harness([
      ['validating', null],
      ['ready', null]
    ])
    expect((await h.go(image('pending'))).kind).toBe('ready')
    expect(h.logger.of('debug').map(l => l.message)).toContainEqual(expect.stringContaining('"validating" is not known'))
  })

  it('retries an image that had already failed before the run, whatever its code', async () => {
    const h = harness([
      ['pending', null],
      ['ready', null]
    ])
    const result = await h.go(image('failed', 'sourceImageNotGeneralized'), { failedBeforeRun: true })
    expect(result.kind).toBe('ready')
    expect(h.retries).toEqual([0])
  })

  it('logs a line per status change and a heartbeat at most every five minutes', async () => {
    const h = harness([['pending', null]], { pollIntervalMs: 10_000, timeoutMs: 30 * 60_000 })
    await h.go(image('pending'))
    const info = h.logger.of('info').map(l => l.message)
    const heartbeats = info.filter(m => m.startsWith('Still pending'))
    expect(info.filter(m => m.includes('is pending'))).toHaveLength(1)
    expect(heartbeats.length).toBe(5)
    expect(heartbeats[0]).toMatch(/after 5m 0s; 25m 0s left/)
  })

  it('waits out reads that still show the failure from before the retry, and never retries because of them', async () => {
    const h = harness([
      ['failed', 'internalServerError'],
      ['failed', 'internalServerError', 'unchanged'],
      ['failed', 'internalServerError', 'unchanged'],
      ['pending', null],
      ['ready', null]
    ])
    const result = await h.go(image('pending'))
    expect(result.kind).toBe('ready')
    expect(h.retries).toEqual([60_000])
    expect(h.events).toEqual(['pending', 'failed', 'pending', 'ready'])
    expect(h.logger.of('info').map(l => l.message)).toContainEqual(
      expect.stringContaining('still shows the failure from before the retry')
    )
  })

  it('ends a retry the service never shows after the grace, without asking again', async () => {
    const h = harness(
      [
        ['failed', 'internalServerError'],
        ['failed', 'internalServerError', 'unchanged']
      ],
      { pollIntervalMs: 60_000, timeoutMs: 60 * 60_000 }
    )
    const result = await h.go(image('pending'))
    expect(result).toMatchObject({ kind: 'failed', reason: 'retryNotSeen', info: { code: 'internalServerError' } })
    expect(h.retries).toEqual([60_000])
    // The retry at 60 s, then reads until the five-minute grace is over at 360 s.
    expect(h.reads.at(-1)).toBe(360_000)
  })

  it('a newer failure after a retry is a new failure, retried while retries are left', async () => {
    const h = harness([
      ['failed', 'internalServerError'],
      ['failed', 'internalServerError'],
      ['ready', null]
    ])
    expect((await h.go(image('pending'))).kind).toBe('ready')
    expect(h.retries).toEqual([60_000, 120_000])
  })

  const refusal = () =>
    new GraphError({
      method: 'POST',
      path: '/deviceManagement/virtualEndpoint/deviceImages/img-1/retryUpload',
      status: 400,
      code: 'BadRequest',
      message: 'Only an image whose upload failed can be retried.'
    })

  it('a refused retry is followed by a read: pending means an upload is under way, so it waits on', async () => {
    const h = harness(
      [
        ['failed', 'internalServerError'],
        ['pending', null],
        ['ready', null]
      ],
      {},
      async () => {
        throw refusal()
      }
    )
    const result = await h.go(image('pending'))
    expect(result.kind).toBe('ready')
    expect(h.retries).toEqual([60_000])
    // The read after the refusal comes at once, not an interval later.
    expect(h.reads).toEqual([60_000, 60_000, 120_000])
  })

  it('a refused retry on an image that is still failed ends the wait with the refusal and the code', async () => {
    const h = harness([['failed', 'internalServerError']], {}, async () => {
      throw refusal()
    })
    const result = await h.go(image('pending'))
    expect(result).toMatchObject({
      kind: 'failed',
      reason: 'retryRefused',
      info: { code: 'internalServerError' },
      refusal: { details: { code: 'BadRequest' } },
      ids: { requestId: 'request-2' }
    })
    expect(h.retries).toHaveLength(1)
  })

  it('uploads a new source with a retry that does not count against maxUploadRetries', async () => {
    const h = harness(
      [
        ['pending', null],
        ['failed', 'internalServerError'],
        ['ready', null]
      ],
      { maxUploadRetries: 1 }
    )
    const result = await h.go(image('failed', 'sourceImageNotGeneralized'), { uploadNewSource: true })
    expect(result.kind).toBe('ready')
    expect(h.retries).toEqual([0, 120_000])
    expect(h.logger.of('info').map(l => l.message)).toContainEqual(expect.stringContaining('upload the new source'))
  })

  it('ends as a time-out, with the reason, when reads fail until the deadline', async () => {
    const h = harness([['pending', null], new DeadlineError('GET /x: HTTP 503 (attempt 9)')])
    const result = await h.go(image('pending'))
    expect(result).toMatchObject({ kind: 'timedOut', cause: expect.stringMatching(/HTTP 503 \(attempt 9\)/) })
    expect(h.reads).toHaveLength(2)
  })

  it('ends as a time-out when a read is throttled past the deadline', async () => {
    const h = harness([new ThrottledError('GET /x', 3600_000, 60_000)])
    const result = await h.go(image('pending'))
    expect(result).toMatchObject({ kind: 'timedOut', cause: expect.stringMatching(/asked to wait 1h 0m/) })
  })

  it('fails on a read error that is not about time: the image was deleted, access was lost', async () => {
    const refused = new GraphError({ method: 'GET', path: '/x', status: 403, code: 'Forbidden', message: 'no' })
    const h = harness([refused])
    await expect(h.go(image('pending'))).rejects.toBe(refused)
  })

  it('ends as a time-out when the upload retry cannot be sent before the deadline', async () => {
    const h = harness([['ready', null]], {}, async () => {
      throw new ThrottledError('POST /x/retryUpload', 3600_000, 60_000)
    })
    const result = await h.go(image('failed', 'internalServerError'))
    expect(result).toMatchObject({ kind: 'timedOut', cause: expect.stringMatching(/retryUpload/) })
    expect(h.reads).toEqual([])
  })

  it('passes on an upload retry that failed other than by a refusal, without reading', async () => {
    const lost = new OutcomeUnknownError('POST', '/x/retryUpload', 'HTTP 500')
    const h = harness([['ready', null]], {}, async () => {
      throw lost
    })
    await expect(h.go(image('failed', 'internalServerError'))).rejects.toBe(lost)
    expect(h.reads).toEqual([])
  })

  it('does not give a new source a second free retry after a refusal left the upload running', async () => {
    const h = harness(
      [
        ['pending', null],
        ['failed', 'internalServerError']
      ],
      { maxUploadRetries: 0 },
      async () => {
        throw refusal()
      }
    )
    const result = await h.go(image('failed', 'sourceImageNotGeneralized'), { uploadNewSource: true })
    expect(result).toMatchObject({ kind: 'failed', reason: 'retriesExhausted' })
    expect(h.retries).toHaveLength(1)
  })

  it('ends as a time-out when the read after a refused retry fails until the deadline', async () => {
    const refused = new GraphError({ method: 'POST', path: '/x/retryUpload', status: 400, code: 'BadRequest', message: 'no' })
    const h = harness([new DeadlineError('GET /x: HTTP 503')], {}, async () => {
      throw refused
    })
    const result = await h.go(image('failed', 'internalServerError'))
    expect(result).toMatchObject({ kind: 'timedOut', cause: expect.stringMatching(/HTTP 503/) })
  })
})

describe('uploadStep: one step of the upload, the whole of it with wait: false', () => {
  const options = { maxUploadRetries: 2, pollIntervalMs: 60_000 }
  const refused = new GraphError({
    method: 'POST',
    path: '/deviceManagement/virtualEndpoint/deviceImages/img-1/retryUpload',
    status: 400,
    code: 'BadRequest',
    message: 'Only an image whose upload failed can be retried.'
  })
  const deps = (reads: DeviceImage[], retry: () => Promise<string> = async () => 'retryUpload') => {
    const seen: string[] = []
    return {
      seen,
      clock: new FakeClock(),
      logger: new RecordingLogger(),
      read: async () => ({ image: reads.shift()!, ids: { requestId: 'after', clientRequestId: 'client-after' } }),
      retryUpload: retry,
      onSeen: ({ image }: { image: DeviceImage }) => void seen.push(String(image.status))
    }
  }

  it('a retry refused because an upload already runs is under way, with the image as read after the refusal', async () => {
    const d = deps([image('pending')], async () => {
      throw refused
    })
    const step = await uploadStep(
      { image: image('failed', 'internalServerError') },
      firstRetryState({ failedBeforeRun: true }),
      options,
      d
    )
    expect(step).toMatchObject({ kind: 'going', retried: false, read: { image: { status: 'pending' } } })
    expect(d.seen).toEqual(['failed', 'pending'])
    expect(d.logger.of('info').map(l => l.message)).toContainEqual(expect.stringContaining('an upload is already under way'))
  })

  it('a refused retry on an image still failed ends the upload, with the read that saw it', async () => {
    const d = deps([image('failed', 'internalServerError')], async () => {
      throw refused
    })
    const step = await uploadStep(
      { image: image('failed', 'internalServerError') },
      firstRetryState({ failedBeforeRun: false }),
      options,
      d
    )
    expect(step).toMatchObject({
      kind: 'ended',
      end: { kind: 'failed', reason: 'retryRefused', ids: { requestId: 'after' }, retriesUsed: 0 }
    })
  })

  it('returns the next state and leaves the one it was given as it was', async () => {
    const given = firstRetryState({ failedBeforeRun: true })
    const before = structuredClone(given)
    const step = await uploadStep({ image: image('failed', 'sourceImageNotGeneralized') }, given, options, deps([]))
    expect(given).toEqual(before)
    expect(step).toMatchObject({ kind: 'going', retried: true, state: { retriesUsed: 1, forceRetry: false, freeRetry: false } })
  })

  it('does not count the upload of a new source', async () => {
    const step = await uploadStep(
      { image: image('failed', 'sourceImageNotGeneralized') },
      firstRetryState({ failedBeforeRun: false, uploadNewSource: true }),
      { ...options, maxUploadRetries: 0 },
      deps([])
    )
    expect(step).toMatchObject({ kind: 'going', retried: true, state: { retriesUsed: 0, freeRetry: false } })
  })
})
