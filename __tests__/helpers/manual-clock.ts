import type { Clock } from '../../src/core/clock.js'

/** Time that moves only when the test says so: sleepers wake in order as it passes their time. */
export class ManualClock implements Clock {
  private sleepers: { until: number; wake: () => void }[] = []
  constructor(public time = Date.parse('2026-11-23T10:00:00Z')) {}
  now(): number {
    return this.time
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve()
    return new Promise(resolve => {
      const sleeper = { until: this.time + ms, wake: resolve }
      this.sleepers.push(sleeper)
      signal?.addEventListener('abort', () => {
        this.sleepers = this.sleepers.filter(s => s !== sleeper)
        resolve()
      })
    })
  }
  /** How many callers are asleep now. */
  get sleeping(): number {
    return this.sleepers.length
  }
  advance(ms: number): void {
    this.time += ms
    const due = this.sleepers.filter(s => s.until <= this.time)
    this.sleepers = this.sleepers.filter(s => s.until > this.time)
    for (const s of due) s.wake()
  }
}
