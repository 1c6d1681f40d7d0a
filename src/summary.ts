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

const FOLD_ABOVE_ROWS = 10
/** Keeps the summary far below GitHub's 1 MiB limit even for thousands of Cloud PCs. */
export const MAX_CLOUD_PC_ROWS = 1000

function addRollout(summary: Summary, report: RunReport): void {
  const header = (...names: string[]) => names.map(data => ({ data, header: true }))
  if (report.policies && report.policies.length > 0) {
    summary.addHeading('Provisioning policies', 3)
    summary.addTable([
      header('Policy', 'ID', 'Result'),
      ...report.policies.map(p => [
        escapeHtml(p.displayName || '—'),
        `<code>${escapeHtml(p.id)}</code>`,
        escapeHtml(p.error ? `${p.result}: ${p.error}` : p.result)
      ])
    ])
  }
  const pcs = report.cloudPcs
  if (!pcs || pcs.length === 0) return
  const count = (result: string) => pcs.filter(pc => pc.result === result).length
  const planned = count('would reprovision')
  const line = planned
    ? `${planned} Cloud PC${planned === 1 ? '' : 's'} would be reprovisioned.`
    : `${count('reprovisioned')} Cloud PCs reprovisioned, ${count('failed')} failed${count('pending') ? `, ${count('pending')} not reached` : ''}.`
  summary.addHeading('Cloud PCs', 3)
  summary.addRaw(`<p>${escapeHtml(line)}</p>`, true)
  // Failures first, so they are seen even when the table is long or cut.
  const ordered = [...pcs].sort((a, b) => Number(b.result === 'failed') - Number(a.result === 'failed'))
  const shown = ordered.slice(0, MAX_CLOUD_PC_ROWS)
  const table = `<table>${[
    '<tr><th>Cloud PC</th><th>Name</th><th>User</th><th>Result</th></tr>',
    ...shown.map(
      pc =>
        `<tr><td><code>${escapeHtml(pc.id)}</code></td><td>${escapeHtml(pc.displayName || '—')}</td><td>${escapeHtml(pc.userPrincipalName || '—')}</td><td>${escapeHtml(pc.error ? `${pc.result}: ${pc.error}` : pc.result)}</td></tr>`
    )
  ].join('')}</table>${pcs.length > shown.length ? `<p>… and ${pcs.length - shown.length} more, not listed here.</p>` : ''}`
  if (pcs.length > FOLD_ABOVE_ROWS) summary.addDetails(`All ${pcs.length} Cloud PCs`, table)
  else summary.addRaw(table, true)
}

export function buildSummary(summary: Summary, report: RunReport, links: RunLinks): Summary {
  const outcome = report.outcome ?? (report.failure || report.inputErrors.length > 0 ? 'failed' : 'ready')
  const heading = report.inputErrors.length > 0 ? '❌ Cloud PC image: invalid inputs' : (HEADINGS[outcome] ?? HEADINGS.failed)
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
    summary.addTable([
      [
        { data: 'At', header: true },
        { data: 'Event', header: true },
        { data: 'Lasted', header: true }
      ],
      ...rows
    ])
  }

  addRollout(summary, report)

  const footer: string[] = []
  if (links.runUrl) footer.push(`<a href="${escapeHtml(links.runUrl)}">Workflow run</a>`)
  if (links.commitUrl && links.sha)
    footer.push(`commit <a href="${escapeHtml(links.commitUrl)}"><code>${escapeHtml(links.sha.slice(0, 7))}</code></a>`)
  if (report.endedAt) footer.push(`took ${escapeHtml(formatDuration(report.endedAt - report.startedAt))}`)
  if (footer.length > 0) summary.addRaw(`<p>${footer.join(' · ')}</p>`, true)
  return summary
}
