// One way a cancellation travels: as a CancelledError, thrown where the run notices it (the
// requester mid-exchange, a loop after its sleep) and caught once, where the partial state is recorded.

import { CancelledError } from './errors.js'

/** Throws CancelledError once `signal` has aborted; a sleep that `signal` cut short ends in it. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError()
}
