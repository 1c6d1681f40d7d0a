import { describe, expect, it } from '@jest/globals'
import type { DeviceImage } from '../src/graph-types.js'
import { decideStep, waitForImage, type WaitOptions } from '../src/wait.js'
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

describe('decideStep', () => {
  it.each([
    ['ready', null, 0, 2, 'ready'],
    ['READY', null, 0, 2, 'ready'],
    ['warning', null, 0, 2, 'warning'],
    ['pending', null, 0, 2, 'pending'],
    ['unknownFutureValue', null, 0, 2, 'pending'],
    ['uploading', null, 0, 2, 'pending'],
    [null, null, 0, 2, 'pending'],
    ['failed', 'internalServerError', 0, 2, 'retry'],
    ['failed', 'InternalServerError', 1, 2, 'retry'],
    ['failed', null, 0, 2, 'retry'],
    ['failed', 'unknownFutureValue', 0, 2, 'retry'],
    ['failed', 'someCodeFrom2030', 0, 2, 'retry'],
    ['failed', 'internalServerError', 2, 2, 'failed'],
    ['failed', 'sourceImageNotGeneralized', 0, 2, 'failed'],
    ['failed', 'vmAlreadyAzureAdJoined', 0, 2, 'failed'],
    ['failed', 'internalServerError', 0, 0, 'failed']
  ])('status %s, code %s, %i of %i retries used → %s', (status, code, used, max, expected) => {
    expect(decideStep(image(status, code), used, max).kind).toBe(expected)
  })

  it('retries an image that had failed before the run once, whatever its code', () => {
    expect(decideStep(image('failed', 'sourceImageNotGeneralized'), 0, 2, true).kind).toBe('retry')
    expect(decideStep(image('failed', 'sourceImageNotGeneralized'), 0, 0, true).kind).toBe('failed')
  })

  it('explains a non-retryable failure and says whether retries ran out', () => {
    const step = decideStep(image('failed', 'sourceImageNotGeneralized'), 0, 2)
    expect(step).toMatchObject({
      kind: 'failed',
      retriesExhausted: false,
      info: { code: 'sourceImageNotGeneralized', remedy: expect.stringMatching(/sysprep/) }
    })
    expect(decideStep(image('failed', 'internalServerError'), 2, 2)).toMatchObject({ kind: 'failed', retriesExhausted: true })
  })
})

/** Reads return the scripted statuses in order; the last one repeats. */
function harness(statuses: [string, string | null][], options: Partial<WaitOptions> = {}) {
  const clock = new FakeClock()
  const logger = new RecordingLogger()
  const reads: number[] = []
  const retries: number[] = []
  let next = 0
  const events: string[] = []
  const opts: WaitOptions = { pollIntervalMs: 60_000, timeoutMs: 30 * 60_000, maxUploadRetries: 2, ...options }
  const start = clock.now()
  const go = (initial: DeviceImage, failedBeforeRun = false) =>
    waitForImage(
      initial,
      opts,
      { retriesUsed: 0, failedBeforeRun },
      {
        clock,
        logger,
        read: async () => {
          reads.push(clock.now() - start)
          const [status, code] = statuses[Math.min(next++, statuses.length - 1)]
          return image(status, code)
        },
        retryUpload: async () => {
          retries.push(clock.now() - start)
          return 'retryUpload'
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

  it('stops retrying after maxUploadRetries', async () => {
    const h = harness([['failed', 'internalServerError']], { maxUploadRetries: 2 })
    const result = await h.go(image('pending'))
    expect(result).toMatchObject({ kind: 'failed', retriesExhausted: true })
    expect(h.retries).toHaveLength(2)
  })

  it('fails at once on a code a retry cannot fix', async () => {
    const h = harness([['failed', 'sourceImageNotGeneralized']])
    const result = await h.go(image('pending'))
    expect(result).toMatchObject({ kind: 'failed', retriesExhausted: false, info: { code: 'sourceImageNotGeneralized' } })
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
    const result = await h.go(image('failed', 'sourceImageNotGeneralized'), true)
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
})
