// The one poll loop: look, and until done, wait an interval and read again, up to a deadline; a
// heartbeat while it waits; a cancellation noticed after each sleep; a read that fails until the
// deadline is a time-out with its cause. On a fake clock, so every figure is exact.

import { describe, expect, it } from '@jest/globals'
import { CancelledError, DeadlineError, GraphError } from '../src/core/errors.js'
import { HEARTBEAT_MS, pollUntil } from '../src/core/poll.js'
import { FakeClock } from './helpers/fake-clock.js'

const MINUTE = 60_000

/** A poll that is done at the `doneAt`-th look (never, when unset), with what it did. */
function counting(clock: FakeClock, options: { doneAt?: number; deadlineMs: number; read?: () => Promise<void> }) {
  const looks: number[] = []
  const reads: number[] = []
  const beats: number[] = []
  const start = clock.now()
  const poll = pollUntil({
    clock,
    deadline: start + options.deadlineMs,
    intervalMs: MINUTE,
    check: () => (looks.push(clock.now() - start) === options.doneAt ? 'done' : undefined),
    read: async deadline => {
      expect(deadline).toBe(start + options.deadlineMs)
      reads.push(clock.now() - start)
      await options.read?.()
    },
    heartbeat: now => void beats.push(now - start)
  })
  return { poll, looks, reads, beats }
}

describe('pollUntil', () => {
  it('reads every interval until a look is done, and returns what it saw', async () => {
    const clock = new FakeClock()
    const c = counting(clock, { doneAt: 4, deadlineMs: 60 * MINUTE })
    await expect(c.poll).resolves.toEqual({ kind: 'done', value: 'done' })
    expect(c.looks).toEqual([0, 1, 2, 3].map(n => n * MINUTE))
    expect(c.reads).toEqual([1, 2, 3].map(n => n * MINUTE))
  })

  it('does not read when the first look is done', async () => {
    const clock = new FakeClock()
    const c = counting(clock, { doneAt: 1, deadlineMs: 60 * MINUTE })
    await expect(c.poll).resolves.toEqual({ kind: 'done', value: 'done' })
    expect(c.reads).toEqual([])
    expect(clock.sleeps).toEqual([])
  })

  it('times out at the deadline, its last sleep cut short to end there', async () => {
    const clock = new FakeClock()
    const c = counting(clock, { deadlineMs: 2.5 * MINUTE })
    await expect(c.poll).resolves.toEqual({ kind: 'timedOut' })
    expect(clock.sleeps).toEqual([MINUTE, MINUTE, MINUTE / 2])
    expect(c.looks).toEqual([0, MINUTE, 2 * MINUTE, 2.5 * MINUTE])
  })

  it('writes a heartbeat once every HEARTBEAT_MS of waiting, none more often', async () => {
    const clock = new FakeClock()
    const c = counting(clock, { deadlineMs: 3 * HEARTBEAT_MS + MINUTE })
    await c.poll
    expect(c.beats).toEqual([1, 2, 3].map(n => n * HEARTBEAT_MS))
  })

  it('ends as timed out, with the cause, when reads fail until the deadline; other errors go through', async () => {
    const clock = new FakeClock()
    const cause = new DeadlineError('GET /x kept failing until the deadline')
    const failing = counting(clock, {
      deadlineMs: 60 * MINUTE,
      read: async () => {
        throw cause
      }
    })
    await expect(failing.poll).resolves.toEqual({ kind: 'timedOut', cause })
    const refusal = new GraphError({ method: 'GET', path: '/x', status: 403, code: 'Forbidden', message: 'no' })
    const refused = counting(clock, {
      deadlineMs: 60 * MINUTE,
      read: async () => {
        throw refusal
      }
    })
    await expect(refused.poll).rejects.toBe(refusal)
  })

  it('throws CancelledError after the sleep a cancellation cut short, reading nothing more', async () => {
    const clock = new FakeClock()
    const controller = new AbortController()
    const reads: number[] = []
    const poll = pollUntil({
      clock: { now: () => clock.now(), sleep: async ms => void (reads.length === 2 ? controller.abort() : clock.sleep(ms)) },
      signal: controller.signal,
      deadline: clock.now() + 60 * MINUTE,
      intervalMs: MINUTE,
      check: () => undefined,
      read: async () => void reads.push(clock.now()),
      heartbeat: () => undefined
    })
    await expect(poll).rejects.toBeInstanceOf(CancelledError)
    expect(reads).toHaveLength(2)
  })

  it('sleeps at least a millisecond a round, so even an interval rounded to 0 reaches the deadline', async () => {
    const clock = new FakeClock()
    const poll = pollUntil({
      clock,
      deadline: clock.now() + 3,
      intervalMs: 0,
      check: () => undefined,
      read: async () => undefined,
      heartbeat: () => undefined
    })
    await expect(poll).resolves.toEqual({ kind: 'timedOut' })
    expect(clock.sleeps).toEqual([1, 1, 1])
  })

  it('waits on a look that makes requests of its own, and ends a look that fails until the deadline as a time-out', async () => {
    const clock = new FakeClock()
    const start = clock.now()
    let looks = 0
    const cause = new DeadlineError('the retry kept failing until the deadline')
    const end = await pollUntil({
      clock,
      deadline: start + 10 * MINUTE,
      intervalMs: MINUTE,
      check: async () => {
        await clock.sleep(1)
        if (++looks === 3) throw cause
        return undefined
      },
      read: async () => undefined,
      heartbeat: () => undefined
    })
    expect(end).toEqual({ kind: 'timedOut', cause })
    expect(looks).toBe(3)
  })

  it("counts the caller's own lines as signs of life: the heartbeat comes after HEARTBEAT_MS of silence", async () => {
    const clock = new FakeClock()
    const start = clock.now()
    const beats: number[] = []
    let lastLine = start
    await pollUntil({
      clock,
      deadline: start + 2 * HEARTBEAT_MS,
      intervalMs: MINUTE,
      // A line of its own at every look until HEARTBEAT_MS has passed, then silence.
      check: () => void (clock.now() - start < HEARTBEAT_MS && (lastLine = clock.now())),
      read: async () => undefined,
      heartbeat: now => void beats.push(now - start),
      lastLineAt: () => lastLine
    })
    // The last own line came at HEARTBEAT_MS - 1 minute; the heartbeat HEARTBEAT_MS of silence later.
    expect(beats).toEqual([2 * HEARTBEAT_MS - MINUTE])
  })
})
