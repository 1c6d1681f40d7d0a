// Durations as people read them in the log, the errors and the summary: one format everywhere.

export function formatDuration(ms: number): string {
  const clamped = Math.max(0, ms)
  // Below ten seconds tenths matter (a retry in 4.7s); a moment too short to see reads as 0s.
  if (clamped < 10_000) return clamped < 50 ? '0s' : `${(clamped / 1000).toFixed(1)}s`
  const totalSeconds = Math.round(clamped / 1000)
  const h = Math.floor(totalSeconds / 3600)
  const m = Math.floor((totalSeconds % 3600) / 60)
  const s = totalSeconds % 60
  if (h > 0) return `${h}h ${m}m`
  if (m > 0) return `${m}m ${s}s`
  return `${s}s`
}
