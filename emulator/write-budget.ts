/** Tenant-wide cap on Graph writes over a sliding window. */
export class WriteBudget {
  /** Times of the writes admitted within the current window, oldest first. */
  private admitted: number[] = []

  /** 0 when the write may proceed (and is counted), else the whole seconds until a slot frees. */
  admit(now: number, budget: { writes: number; perSeconds: number } | null): number {
    if (budget === null) return 0
    const windowMs = budget.perSeconds * 1000
    this.admitted = this.admitted.filter(t => t > now - windowMs)
    if (this.admitted.length < budget.writes) {
      this.admitted.push(now)
      return 0
    }
    // With a budget of 0 writes nothing frees; a full window is the honest answer.
    const freesAt = (this.admitted[this.admitted.length - budget.writes] ?? now) + windowMs
    return Math.max(1, Math.ceil((freesAt - now) / 1000))
  }
}
