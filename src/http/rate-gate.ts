// Throttling is a tenant-wide state: when the service says "retry after N seconds" to one request,
// every request to the same host holds back until then, so a batch slows down as a whole.

import type { Clock } from '../core/clock.js'

export class RateGate {
  private openAt = 0

  constructor(private readonly clock: Clock) {}

  /** Keeps every caller back for `ms` from now (never shortens an earlier hold). */
  holdFor(ms: number): void {
    this.openAt = Math.max(this.openAt, this.clock.now() + ms)
  }

  /** How long the gate stays shut from now. */
  heldForMs(): number {
    return Math.max(0, this.openAt - this.clock.now())
  }

  /**
   * Waits until the gate is open and returns true; returns false at once, without waiting, when it
   * stays shut past `deadline`, or when `signal` aborts.
   */
  async pass(deadline: number, signal?: AbortSignal): Promise<boolean> {
    for (let wait = this.heldForMs(); wait > 0; wait = this.heldForMs()) {
      if (signal?.aborted || this.openAt > deadline) return false
      await this.clock.sleep(wait, signal)
    }
    return !signal?.aborted
  }
}
