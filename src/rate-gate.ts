// Throttling is a tenant-wide state: when the service says "retry after N seconds" to one request,
// every request through the same client holds back until then, so a batch slows down as a whole.

import type { Clock } from './clock.js'

export class RateGate {
  private openAt = 0

  constructor(private readonly clock: Clock) {}

  /** Keeps every caller back for `ms` from now (never shortens an earlier hold). */
  holdFor(ms: number): void {
    this.openAt = Math.max(this.openAt, this.clock.now() + ms)
  }

  /** Resolves once the gate is open. */
  async pass(signal?: AbortSignal): Promise<void> {
    for (let wait = this.openAt - this.clock.now(); wait > 0 && !signal?.aborted; wait = this.openAt - this.clock.now())
      await this.clock.sleep(wait, signal)
  }
}
