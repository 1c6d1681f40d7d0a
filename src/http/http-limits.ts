// The limits of the one HTTP path (src/http/requester.ts), in one place: how large each kind of answer
// may be, how long an exchange may take, and how much of a refused redirect is shown. An answer past
// a limit is refused as malformed; an exchange past its time ends as a time-out.

const KiB = 1024
const MiB = 1024 * KiB

/** What a request expects back when it succeeds; each kind has its own size limit. */
export type AnswerKind = 'token' | 'entity' | 'listPage'

/** The largest body of a successful answer, by kind. */
export const ANSWER_MAX_BYTES: Record<AnswerKind, number> = {
  // An app-only token answer is a JWT of a few KB and a handful of short fields.
  token: 256 * KiB,
  // One device image, provisioning policy, Cloud PC or Azure Resource Manager image: a few KB each.
  entity: 1 * MiB,
  // One page of a list. Graph pages lists, but a service that ignores paging (and $select) may answer
  // with the whole list: 10,000 Cloud PCs with every field of the beta entity (2-3 KB each, 4 KB
  // allowed) is 40 MB, and still fits.
  listPage: 40 * MiB
}

/** An error answer's body: Graph's and Entra's are under 1 KB, a gateway's HTML page a few tens of KB. */
export const ERROR_BODY_MAX_BYTES = 64 * KiB

/** What each limit is for, as the error that names it says. */
export const ANSWER_LABELS: Record<AnswerKind | 'error', string> = {
  token: 'a token answer',
  entity: 'a single entity',
  listPage: 'a list page',
  error: 'an error answer'
}

/** How long an exchange may go without a byte before it is given up: Graph's own gateway gives up sooner. */
export const IDLE_TIMEOUT_MS = 100_000

/**
 * Every exchange ends by the deadline of the request it serves. The retry policy makes the last
 * attempt on the deadline itself; that attempt still gets one idle time-out to be answered, at most
 * this long, so a deadline is overrun by seconds, not minutes.
 */
export const LAST_ATTEMPT_MAX_MS = 10_000

/** The Location of a refused redirect is the server's text: only this much of it is shown. */
export const LOCATION_SHOWN_CHARS = 200

/** "256 KiB", "40 MiB": a limit as the errors and the docs write it. */
export function formatBytes(bytes: number): string {
  return bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${Math.round(bytes / KiB)} KiB`
}
