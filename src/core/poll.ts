// The one poll loop: look at what was read, and until it is done, wait an interval and read again,
// up to a deadline. While it waits it writes a heartbeat; after each sleep it notices a
// cancellation; reads that fail until the deadline end it as a time-out that names why.

import { throwIfCancelled } from './cancel.js'
import type { Clock } from './clock.js'
import { DeadlineError } from './errors.js'

/** A line in the log every five minutes of waiting: a long wait is seen alive, without a line per read. */
export const HEARTBEAT_MS = 5 * 60_000

/** Each round sleeps at least this long, so time moves towards the deadline even on a fake clock. */
const MIN_INTERVAL_MS = 1

export interface Poll<T> {
  clock: Clock
  signal?: AbortSignal
  /** When the poll gives up (ms since the epoch); each read retries its requests up to it. */
  deadline: number
  intervalMs: number
  /** HEARTBEAT_MS unless a caller has a reason for another. */
  heartbeatMs?: number
  /** What the last read shows: a value ends the poll with it. It may make requests of its own. */
  check(): T | undefined | Promise<T | undefined>
  /** Reads again; a DeadlineError from it ends the poll as timed out. */
  read(deadline: number): Promise<void>
  /** The heartbeat line, once every heartbeatMs of waiting. */
  heartbeat(now: number): void
  /** When the caller last wrote a line of its own: the heartbeat comes after heartbeatMs of silence. */
  lastLineAt?(): number
}

/** `cause`: the reads failed until the deadline, rather than the deadline coming with them answered. */
export type PollEnd<T> = { kind: 'done'; value: T } | { kind: 'timedOut'; cause?: DeadlineError }

export async function pollUntil<T>(poll: Poll<T>): Promise<PollEnd<T>> {
  const { clock, deadline } = poll
  const intervalMs = Math.max(MIN_INTERVAL_MS, poll.intervalMs)
  const heartbeatMs = poll.heartbeatMs ?? HEARTBEAT_MS
  let lastBeat = clock.now()
  // Bounded by the deadline: each round sleeps until the next read or the deadline, whichever is first.
  for (;;) {
    let value: T | undefined
    try {
      value = await poll.check()
    } catch (error) {
      if (error instanceof DeadlineError) return { kind: 'timedOut', cause: error }
      throw error
    }
    if (value !== undefined) return { kind: 'done', value }
    const now = clock.now()
    if (now >= deadline) return { kind: 'timedOut' }
    if (now - Math.max(lastBeat, poll.lastLineAt?.() ?? lastBeat) >= heartbeatMs) {
      poll.heartbeat(now)
      lastBeat = now
    }
    await clock.sleep(Math.min(intervalMs, deadline - now), poll.signal)
    throwIfCancelled(poll.signal)
    try {
      await poll.read(deadline)
    } catch (error) {
      if (error instanceof DeadlineError) return { kind: 'timedOut', cause: error }
      throw error
    }
  }
}
