// The job summary people read: what was published, how it went, and what to do when it failed.
// Every string from the service or the user is escaped: the summary helpers insert raw HTML.

import type * as core from '@actions/core'
import type { RunReport } from './report.js'
import { formatDuration } from './wait.js'

export interface RunLinks {
  runUrl?: string
  commitUrl?: string
  sha?: string
}

type Summary = typeof core.summary

const HEADINGS: Record<string, string> = {
  ready: '✅ Cloud PC image ready',
  warning: '⚠️ Cloud PC image ready with a warning',
  submitted: '📤 Cloud PC image submitted (not waited for)',
  planned: '📝 Cloud PC image plan (dry run)',
  failed: '❌ Cloud PC image upload failed',
  timedOut: '⏱️ Timed out waiting for the Cloud PC image',
  cancelled: '🛑 Cloud PC image publish cancelled'
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

export function buildSummary(summary: Summary, report: RunReport, links: RunLinks): Summary {
  const outcome = report.outcome ?? (report.failure || report.inputErrors.length > 0 ? 'failed' : 'ready')
  const heading =
    report.inputErrors.length > 0 ? '❌ Cloud PC image: invalid inputs' : (HEADINGS[outcome] ?? HEADINGS.failed)
  summary.addHeading(heading, 2)

  if (report.inputErrors.length > 0) {
    summary.addList(report.inputErrors.map(e => `<code>${escapeHtml(e.input)}</code>: ${escapeHtml(e.message)}`))
    summary.addRaw('No request was sent.', true)
  }

  if (report.failure) {
    summary.addRaw(`<p><strong>${escapeHtml(report.failure.title)}</strong></p>`, true)
    summary.addRaw(`<p>${escapeHtml(report.failure.message)}</p>`, true)
  }

  const image = report.image
  const name = image?.displayName ?? report.displayName
  if (name || image) {
    const row = (label: string, value: unknown): [{ data: string; header: true }, string] => [
      { data: label, header: true },
      value === null || value === undefined || value === '' ? '—' : escapeHtml(value)
    ]
    summary.addTable([
      row('Name', name),
      row('Version', image?.version ?? report.version),
      row('Image ID', image?.id),
      row('Status', image?.status),
      row('Error code', image?.errorCode),
      row('Operating system', image?.operatingSystem),
      row('OS build', image?.osBuildNumber),
      row('OS version', image?.osVersionNumber),
      row('Size (GB)', image?.sizeInGB),
      row('OS status', image?.osStatus),
      row('Expires', image?.expirationDate),
      row('Source', image?.sourceImageResourceId ?? report.sourceImageResourceId),
      row('Result', report.result),
      row('Upload attempts', report.result && report.result !== 'planned' ? 1 + report.uploadRetries : undefined)
    ])
  }

  if (report.plan.length > 0) {
    summary.addHeading('Plan', 3)
    summary.addList(report.plan.map(escapeHtml))
  }

  if (report.timeline.length > 0) {
    summary.addHeading('Timeline', 3)
    const rows = report.timeline.map((event, i) => {
      const next = report.timeline[i + 1]?.at ?? report.endedAt ?? event.at
      return [
        escapeHtml(formatDuration(event.at - report.startedAt)),
        escapeHtml(event.kind === 'status' ? `status ${event.label}` : event.label),
        escapeHtml(formatDuration(next - event.at))
      ]
    })
    summary.addTable([[{ data: 'At', header: true }, { data: 'Event', header: true }, { data: 'Lasted', header: true }], ...rows])
  }

  const footer: string[] = []
  if (links.runUrl) footer.push(`<a href="${escapeHtml(links.runUrl)}">Workflow run</a>`)
  if (links.commitUrl && links.sha)
    footer.push(`commit <a href="${escapeHtml(links.commitUrl)}"><code>${escapeHtml(links.sha.slice(0, 7))}</code></a>`)
  if (report.endedAt) footer.push(`took ${escapeHtml(formatDuration(report.endedAt - report.startedAt))}`)
  if (footer.length > 0) summary.addRaw(`<p>${footer.join(' · ')}</p>`, true)
  return summary
}
