// A write whose answer was lost (reset, time-out, 5xx) may or may not have acted. Every write of the
// action is settled the same way: read the state, and send the write again only when the read shows
// it did not take effect. One run therefore never acts twice where once was meant.

import { isRefusal, OutcomeUnknownError, UnsettledError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'

/**
 * A write is sent at most three times, each repeat after a read showed the earlier one did not take
 * effect: three lost answers in a row are an outage that a later run rides out better.
 */
export const MAX_WRITES = 3

/** What a read shows about a write: it took effect (with what it made), or it did not. */
export type Settled<T> = { kind: 'done'; value: T } | { kind: 'notDone' }

/** Why the state is read: the answer was lost, or a repeat was refused. */
export type SettleReason = 'lost' | 'refusedRepeat'

export interface SettledWrite<T> {
  /** The write in a few words, for the log and the error: "Creating image …". */
  what: string
  /** Sends the write once; the requester has already retried what the service did not act on. */
  write: () => Promise<T>
  /**
   * Reads the state and says whether the write took effect. After a refused repeat the refusal is
   * itself a sign of the state the first write left (the image exists, the upload runs).
   */
  check: (reason: SettleReason) => Promise<Settled<T>>
  /** A write that must never be sent twice (a reprovision erases a Cloud PC): 1. Default MAX_WRITES. */
  maxWrites?: number
  logger: Logger
}

export async function settleWrite<T>(w: SettledWrite<T>): Promise<T> {
  const maxWrites = w.maxWrites ?? MAX_WRITES
  for (let sent = 1; ; sent++) {
    try {
      return await w.write()
    } catch (error) {
      const lost = error instanceof OutcomeUnknownError
      if (!lost && !(sent > 1 && isRefusal(error))) throw error
      w.logger.info(
        `${w.what}: ${lost ? `the answer was lost (${error.cause})` : 'the service refused the repeat'}; reading to see whether it took effect.`
      )
      const state = await w.check(lost ? 'lost' : 'refusedRepeat')
      if (state.kind === 'done') return state.value
      if (!lost) throw error
      if (sent >= maxWrites)
        throw new UnsettledError(
          maxWrites === 1
            ? `${w.what}: the answer was lost (${error.cause}) and no read shows it took effect; it is not sent again.`
            : `${w.what} failed ${sent} times with no read showing it took effect (last: ${error.cause}). Run the workflow again later.`
        )
      w.logger.info(`${w.what}: it did not take effect; sending it again.`)
    }
  }
}
