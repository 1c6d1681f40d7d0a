// The limits of the one HTTP path (src/requester.ts), in one place, so that the docs can cite them.

/** How long an exchange may go without a byte before it is given up: Graph's own gateway gives up sooner. */
export const IDLE_TIMEOUT_MS = 100_000

/** The Location of a refused redirect is the server's text: only this much of it is shown. */
export const LOCATION_SHOWN_CHARS = 200
