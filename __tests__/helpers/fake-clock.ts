import type { Clock } from '../../src/core/clock.js'

/** Time that moves only when someone sleeps: the wait loop runs instantly and exactly. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = []
  constructor(public time = Date.parse('2026-11-23T10:00:00Z')) {}
  now(): number {
    return this.time
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms)
    this.time += ms
  }
}
