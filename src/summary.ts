// The job summary people read: what was published, how each phase went, and what to do when it
// failed. Every string from the service or the user is escaped: the summary helpers insert raw HTML.

import type * as core from '@actions/core'
import { parseImageStatus } from './graph-types.js'
import type { CloudPcOutcome, CloudPcResult, RunReport, TimelineEvent, WaveReport } from './report.js'
import { formatDuration } from './duration.js'

export interface RunLinks {
  runUrl?: string
  commitUrl?: string
  sha?: string
}

type Summary = typeof core.summary

/** GitHub rejects a step summary over 1 MiB. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024
/** Enough Cloud PC rows to be useful, few enough to stay far below the limit. */
const MAX_CLOUD_PC_ROWS = 1000
const FOLD_ABOVE_ROWS = 10

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

function headline(report: RunReport): string {
  if (report.inputErrors.length > 0) return '❌ Cloud PC image: invalid inputs'
  switch (report.outcome) {
    case 'ready':
      return report.failure ? '❌ Cloud PC image ready, roll-out incomplete' : '✅ Cloud PC image ready'
    case 'warning':
      return report.failure
        ? '❌ Cloud PC image ready with a warning, roll-out incomplete'
        : '⚠️ Cloud PC image ready with a warning'
    case 'submitted':
      return '📤 Cloud PC image submitted (not waited for)'
    case 'planned':
      return '📝 Cloud PC image plan (dry run, nothing changed)'
    case 'timedOut':
      return '⏱️ Timed out waiting for the Cloud PC image'
    case 'cancelled':
      return '🛑 Cloud PC image publish cancelled'
    default:
      return report.failure?.errorCode ? '❌ Cloud PC image upload failed' : '❌ Cloud PC image publish failed'
  }
}

/** One sentence a reader can stop after. */
function lead(report: RunReport): string | undefined {
  const name = report.image?.displayName ?? report.displayName
  if (!name) return undefined
  const what = `<strong>${escapeHtml(name)}</strong> ${escapeHtml(report.image?.version ?? report.version ?? '')}`
  const took = report.endedAt ? ` after ${escapeHtml(formatDuration(report.endedAt - report.startedAt))}` : ''
  const attempts =
    report.result && report.result !== 'planned'
      ? `, ${1 + report.uploadRetries} upload attempt${report.uploadRetries ? 's' : ''}`
      : ''
  const how = report.result ? ` (${escapeHtml(report.result)}${attempts})` : ''
  switch (report.outcome) {
    case 'ready':
    case 'warning':
      return `${what} is ready${took}${how}.`
    case 'planned':
      return `Dry run for ${what}: nothing was changed.`
    case 'submitted':
      return `${what} was submitted${how}; the upload goes on in the service.`
    case 'timedOut':
      return `${what} was not ready${took}${how}; the upload goes on in the service.`
    case 'cancelled':
      return `Publishing ${what} was cancelled${took}.`
    default:
      return `Publishing ${what} failed${took}${how}.`
  }
}

export interface SummaryOptions {
  maxCloudPcRows?: number
}

export function buildSummary(summary: Summary, report: RunReport, links: RunLinks, options: SummaryOptions = {}): Summary {
  summary.addHeading(headline(report), 2)
  const sentence = lead(report)
  if (sentence) summary.addRaw(`<p>${sentence}</p>`, true)

  if (report.inputErrors.length > 0) {
    summary.addList(report.inputErrors.map(e => `<code>${escapeHtml(e.input)}</code>: ${escapeHtml(e.message)}`))
    summary.addRaw('<p>No request was sent.</p>', true)
  }
  if (report.failure) {
    summary.addRaw(`<p><strong>${escapeHtml(report.failure.title)}</strong>: ${escapeHtml(report.failure.message)}</p>`, true)
    if (report.failure.errorCode)
      summary.addRaw(`<p><strong>What to do:</strong> ${escapeHtml(report.failure.errorCode.remedy)}</p>`, true)
  }

  addImageTable(summary, report)
  addPreflight(summary, report)
  if (report.imageWarnings.length > 0) {
    summary.addHeading('Check the image', 3)
    summary.addList(report.imageWarnings.map(escapeHtml))
  }
  if (report.plan.length > 0) {
    summary.addHeading('Plan', 3)
    summary.addList(report.plan.map(escapeHtml))
  }
  addTimeline(summary, report)
  addRollout(summary, report, options.maxCloudPcRows ?? MAX_CLOUD_PC_ROWS)
  addRetention(summary, report)

  addAdminCenterLinks(summary, report)

  const footer: string[] = []
  if (links.runUrl) footer.push(`<a href="${escapeHtml(links.runUrl)}">Workflow run</a>`)
  if (links.commitUrl && links.sha)
    footer.push(`commit <a href="${escapeHtml(links.commitUrl)}"><code>${escapeHtml(links.sha.slice(0, 7))}</code></a>`)
  if (footer.length > 0) summary.addRaw(`<p>${footer.join(' · ')}</p>`, true)
  return summary
}

/** The Intune admin center of each cloud; it offers no documented deep link to one image or policy. */
const ADMIN_CENTER = { global: 'https://intune.microsoft.com', usgov: 'https://intune.microsoft.us' } as const

function addAdminCenterLinks(summary: Summary, report: RunReport): void {
  const image = report.image
  const policies = (report.policies ?? []).filter(p => p.result !== 'failed')
  if (!image && policies.length === 0) return
  const url = ADMIN_CENTER[report.cloud ?? 'global']
  const link = `<a href="${url}">Intune admin center</a>`
  const items: string[] = []
  if (image)
    items.push(
      `The image: ${link} › Devices › Windows 365 › Custom images › <strong>${escapeHtml(image.displayName)}</strong> ${escapeHtml(image.version)} (<code>${escapeHtml(image.id)}</code>)`
    )
  for (const p of policies)
    items.push(
      `Policy: ${link} › Devices › Windows 365 › Provisioning policies › <strong>${escapeHtml(p.displayName || p.id)}</strong> (<code>${escapeHtml(p.id)}</code>)`
    )
  summary.addHeading('Open in Intune', 3)
  summary.addList(items)
}

function addImageTable(summary: Summary, report: RunReport): void {
  const image = report.image
  if (!image && !report.displayName) return
  const row = (label: string, value: unknown): [{ data: string; header: true }, string] | undefined =>
    value === null || value === undefined || value === '' ? undefined : [{ data: label, header: true }, escapeHtml(value)]
  // A row without a value says nothing the reader can use: it is left out.
  const rows = [
    row('Name', image?.displayName ?? report.displayName),
    row('Version', image?.version ?? report.version),
    row('Image ID', image?.id),
    row('Status', image?.status),
    row('Error code', parseImageStatus(image?.status) === 'failed' ? image?.errorCode : undefined),
    row('Operating system', image?.operatingSystem),
    row('OS build', image?.osBuildNumber),
    row('OS version', image?.osVersionNumber),
    row('Size (GB)', image?.sizeInGB),
    row('OS status', image?.osStatus),
    row('Expires', image?.expirationDate),
    row('Source', image?.sourceImageResourceId ?? report.sourceImageResourceId),
    row('Result', report.result),
    row('Upload attempts', report.result && report.result !== 'planned' ? 1 + report.uploadRetries : undefined)
  ]
  summary.addTable(rows.filter(r => r !== undefined))
}

interface Phase {
  label: string
  start: number
  end: number
  kind: 'active' | 'crit' | 'done' | 'milestone'
}

/**
 * Each event lasts until the next one; statuses are periods, actions and final states are moments.
 * The status read after a retry is taken to have begun at the retry, when the service took it.
 */
export function phasesOf(timeline: TimelineEvent[], endedAt: number): Phase[] {
  return timeline.map((event, i) => {
    const end = timeline[i + 1]?.at ?? endedAt
    const lower = event.label.toLowerCase()
    if (event.kind === 'action' && lower !== 'roll-out')
      return { label: event.label, start: event.at, end: event.at, kind: 'milestone' }
    if (lower === 'ready' || lower === 'warning') return { label: event.label, start: event.at, end: event.at, kind: 'milestone' }
    const previous = timeline[i - 1]
    const start = previous?.kind === 'action' && previous.label.startsWith('retry') ? previous.at : event.at
    return {
      label: event.label,
      start,
      end,
      kind: lower.startsWith('failed') ? 'crit' : lower === 'roll-out' ? 'done' : 'active'
    }
  })
}

/** Mermaid's gantt syntax gives ':', '#' and ';' meanings of their own; a backtick could close the fence. */
function mermaidText(text: string): string {
  return text.replace(/[:#;`\n\r]/g, ' ').trim()
}

/** Tick spacing a reader can tell apart: about six labelled ticks across the span, none repeated. */
export function timelineAxis(spanMs: number): { format: string; tick: string } {
  const steps: [number, string][] = [
    [1000, '1second'],
    [5000, '5second'],
    [10_000, '10second'],
    [30_000, '30second'],
    [60_000, '1minute'],
    [5 * 60_000, '5minute'],
    [10 * 60_000, '10minute'],
    [30 * 60_000, '30minute'],
    [3600_000, '1hour'],
    [3 * 3600_000, '3hour'],
    [6 * 3600_000, '6hour']
  ]
  const [stepMs, tick] = steps.find(([ms]) => spanMs / ms <= 8) ?? steps[steps.length - 1]
  return { format: stepMs < 60_000 ? '%H:%M:%S' : '%H:%M', tick }
}

function addTimeline(summary: Summary, report: RunReport): void {
  if (report.timeline.length === 0) return
  const endedAt = report.endedAt ?? report.timeline[report.timeline.length - 1].at
  const phases = phasesOf(report.timeline, endedAt)
  const span = Math.max(endedAt - report.startedAt, 1)
  const axis = timelineAxis(span)
  // A status too short to draw as a bar (a failure retried at once) is a point with its label, not a
  // sliver whose label runs into the next row.
  const point = (p: Phase) => p.kind === 'milestone' || p.end - p.start < span / 50
  const gantt = [
    'gantt',
    '  dateFormat x',
    `  axisFormat ${axis.format}`,
    `  tickInterval ${axis.tick}`,
    '  section Image',
    ...phases.map((p, i) => {
      const label = mermaidText(point(p) ? p.label : `${p.label} ${formatDuration(p.end - p.start)}`)
      const tags = point(p) ? (p.kind === 'crit' ? 'crit, milestone' : 'milestone') : p.kind
      return `  ${label} :${tags}, p${i}, ${p.start}, ${point(p) ? '0ms' : `${p.end - p.start}ms`}`
    })
  ].join('\n')
  summary.addHeading('Timeline', 3)
  // GitHub draws a fenced mermaid block as a chart.
  summary.addRaw(`\n\`\`\`mermaid\n${gantt}\n\`\`\`\n`, true)
  const rows = phases.map(p => [
    escapeHtml(formatDuration(p.start - report.startedAt)),
    escapeHtml(p.kind === 'milestone' ? p.label : `${p.label} for ${formatDuration(p.end - p.start)}`)
  ])
  const table = `<table><tr><th>At</th><th>Event</th></tr>${rows.map(([at, what]) => `<tr><td>${at}</td><td>${what}</td></tr>`).join('')}</table>`
  summary.addDetails('Timeline as a table', table)
}

function addRollout(summary: Summary, report: RunReport, maxRows: number): void {
  if (report.policies && report.policies.length > 0) {
    summary.addHeading('Provisioning policies', 3)
    summary.addTable([
      [
        { data: 'Policy', header: true },
        { data: 'ID', header: true },
        { data: 'Result', header: true }
      ],
      ...report.policies.map(p => [
        escapeHtml(p.displayName || '—'),
        `<code>${escapeHtml(p.id)}</code>`,
        escapeHtml(p.error ? `${p.result}: ${p.error}` : p.result)
      ])
    ])
  }
  const pcs = report.cloudPcs
  if (!pcs || pcs.length === 0) return
  summary.addHeading('Cloud PCs', 3)
  summary.addRaw(`<p>${escapeHtml(cloudPcLine(pcs))}</p>`, true)
  addWaves(summary, report)
  // Problems first, so they are seen even when the table is long or cut.
  const ordered = [...pcs].sort((a, b) => rank(a.result) - rank(b.result))
  const shown = ordered.slice(0, maxRows)
  const rows = shown.map(
    pc =>
      `<tr><td>${pc.wave ?? '—'}</td><td><code>${escapeHtml(pc.id)}</code></td><td>${escapeHtml(pc.displayName || '—')}</td><td>${escapeHtml(pc.userPrincipalName || '—')}</td><td>${escapeHtml(pc.status || '—')}</td><td>${escapeHtml(OUTCOME_WORDS[pc.result])}</td><td>${escapeHtml(pc.error ?? '')}</td></tr>`
  )
  const more = pcs.length > shown.length ? `<p>… and ${pcs.length - shown.length} more, not listed here.</p>` : ''
  if (shown.length === 0) return void summary.addRaw(more, true)
  const table = `<table><tr><th>Wave</th><th>Cloud PC</th><th>Name</th><th>User</th><th>Status before</th><th>Outcome</th><th>Why</th></tr>${rows.join('')}</table>${more}`
  if (pcs.length > FOLD_ABOVE_ROWS) summary.addDetails(`All ${pcs.length} Cloud PCs`, table)
  else summary.addRaw(table, true)
}

/** Each outcome as a reader should take it: only `reprovisioned` was seen done. */
const OUTCOME_WORDS: Record<CloudPcOutcome, string> = {
  pending: 'not started',
  requested: 'requested, not seen finished',
  unconfirmed: 'answer lost, not seen to start',
  reprovisioned: 'reprovisioned (seen provisioned again)',
  accepted: 'accepted, not observed',
  failed: 'failed',
  timedOut: 'not seen finished in time',
  skipped: 'skipped',
  withheld: 'withheld',
  notStarted: 'not started (cancelled)',
  cancelled: 'requested, not seen finished (cancelled)',
  'would reprovision': 'would reprovision',
  'would skip': 'would skip'
}

function rank(result: CloudPcOutcome): number {
  const order: CloudPcOutcome[] = ['failed', 'timedOut', 'cancelled', 'unconfirmed', 'withheld', 'notStarted']
  const i = order.indexOf(result)
  return i === -1 ? order.length : i
}

function cloudPcLine(pcs: CloudPcResult[]): string {
  const n = (result: CloudPcOutcome) => pcs.filter(pc => pc.result === result).length
  const planned = n('would reprovision')
  if (planned > 0 || n('would skip') > 0)
    return `${planned} Cloud PC${planned === 1 ? '' : 's'} would be reprovisioned${n('would skip') ? `, ${n('would skip')} left alone` : ''}.`
  const parts = (
    [
      ['reprovisioned', 'reprovisioned (seen provisioned again)'],
      ['accepted', 'accepted, not observed (reprovisionTimeoutMinutes: 0)'],
      ['failed', 'failed'],
      ['timedOut', 'not seen finished in time'],
      ['cancelled', 'requested, not seen finished'],
      ['withheld', 'withheld'],
      ['notStarted', 'not started'],
      ['skipped', 'skipped']
    ] as const
  )
    .filter(([result], i) => i === 0 || n(result) > 0)
    .map(([result, words]) => `${n(result)} ${words}`)
  return `${parts.join(', ')}.`
}

function addWaves(summary: Summary, report: RunReport): void {
  const waves = report.waves
  if (!waves || waves.length === 0) return
  const pcs = report.cloudPcs ?? []
  const rows = waves.map(w => {
    const members = pcs.filter(pc => pc.wave === w.number)
    const n = (result: CloudPcOutcome) => members.filter(pc => pc.result === result).length
    const started = w.startedAt === undefined ? '—' : formatDuration(w.startedAt - report.startedAt)
    const took = w.startedAt === undefined || w.endedAt === undefined ? '—' : formatDuration(w.endedAt - w.startedAt)
    const counts =
      w.outcome === 'planned'
        ? `${w.size} would be reprovisioned`
        : [
            `${n('reprovisioned')} reprovisioned`,
            n('accepted') ? `${n('accepted')} accepted` : '',
            n('failed') ? `${n('failed')} failed` : '',
            n('timedOut') ? `${n('timedOut')} not seen finished` : '',
            n('skipped') ? `${n('skipped')} skipped` : '',
            n('withheld') ? `${n('withheld')} withheld` : ''
          ]
            .filter(Boolean)
            .join(', ')
    return `<tr><td>${w.number}</td><td>${escapeHtml(w.target)}</td><td>${w.size}</td><td>${escapeHtml(started)}</td><td>${escapeHtml(took)}</td><td>${escapeHtml(WAVE_WORDS[w.outcome])}</td><td>${escapeHtml(counts)}</td></tr>`
  })
  summary.addRaw(
    `<table><tr><th>Wave</th><th>Up to</th><th>Cloud PCs</th><th>Started at</th><th>Took</th><th>Outcome</th><th>Cloud PCs' outcomes</th></tr>${rows.join('')}</table>`,
    true
  )
}

const WAVE_WORDS: Record<WaveReport['outcome'], string> = {
  planned: 'planned',
  pending: 'not started',
  running: 'running',
  finished: 'finished',
  accepted: 'requested, not waited for',
  timedOut: 'timed out',
  withheld: 'withheld',
  cancelled: 'cancelled'
}

function addPreflight(summary: Summary, report: RunReport): void {
  const preflight = report.preflight
  if (!preflight) return
  summary.addHeading('Source image checks', 3)
  if (preflight.notRun) summary.addRaw(`<p>${escapeHtml(preflight.notRun)}</p>`, true)
  if (preflight.checks.length === 0) return
  const rows = preflight.checks.map(
    c =>
      `<tr><td>${escapeHtml(c.name)}</td><td>${c.passed ? '✅ passed' : '❌ failed'}</td><td>${escapeHtml(c.reported)}</td><td>${escapeHtml(c.passed ? '' : `${c.errorCode}. ${c.fix}`)}</td></tr>`
  )
  summary.addRaw(
    `<table><tr><th>Requirement</th><th>Result</th><th>Azure Resource Manager reports</th><th>Otherwise the upload fails with</th></tr>${rows.join('')}</table>`,
    true
  )
}

function addRetention(summary: Summary, report: RunReport): void {
  const retention = report.retention
  if (!retention) return
  const entries = retention.entries
  const count = (outcome: string, toMakeRoom?: boolean) =>
    entries.filter(e => e.outcome === outcome && (toMakeRoom === undefined || e.toMakeRoom === toMakeRoom)).length
  const parts: string[] = []
  if (count('would delete') > 0 || report.outcome === 'planned') {
    parts.push(`would delete ${count('would delete', true)} now to make room and ${count('would delete', false)} after a success`)
    if (retention.ran) parts.push(`would keep ${count('kept')}`)
  } else {
    parts.push(`deleted ${count('deleted')}${count('deleted', true) ? ` (${count('deleted', true)} to make room)` : ''}`)
    if (retention.ran) parts.push(`kept ${count('kept')}`)
    if (count('not deleted')) parts.push(`could not delete ${count('not deleted')}`)
  }
  const inUse = entries.filter(e => e.inUse).length
  if (inUse > 0) parts.push(`${inUse} kept because a provisioning policy uses ${inUse === 1 ? 'it' : 'them'}`)
  summary.addHeading('Retention', 3)
  summary.addRaw(`<p>${escapeHtml(`With keepVersions ${retention.keepVersions}: ${parts.join(', ')}.`)}</p>`, true)
  if (retention.notRun) summary.addRaw(`<p>${escapeHtml(retention.notRun)}</p>`, true)
  if (entries.length === 0) return
  const rows = entries.map(
    e =>
      `<tr><td>${escapeHtml(e.version)}</td><td><code>${escapeHtml(e.id)}</code></td><td>${escapeHtml(e.status || '—')}</td><td>${escapeHtml(e.outcome)}</td><td>${escapeHtml(e.why)}</td></tr>`
  )
  const table = `<table><tr><th>Version</th><th>Image ID</th><th>Status</th><th>Outcome</th><th>Why</th></tr>${rows.join('')}</table>`
  if (entries.length > FOLD_ABOVE_ROWS)
    summary.addDetails(`All ${entries.length} versions of ${escapeHtml(report.displayName ?? '')}`, table)
  else summary.addRaw(table, true)
}
