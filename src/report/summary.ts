// The job summary people read: what was published, how each phase went, and what to do when it
// failed. The summary is Markdown with raw HTML: every string from the service or the user goes
// through untrusted-text (htmlText, mermaidLabel). It stays under GitHub's size limit by drawing its
// largest part again with tighter limits until the whole fits, and a report that cannot be drawn
// at all still gets a short summary.

import { EOL } from 'node:os'
import type * as core from '@actions/core'
import { parseImageStatus } from '../graph/model.js'
import {
  CLOUD_PC_OUTCOMES,
  type CloudPcResult,
  outcomeCounts,
  type RunReport,
  type TimelineEvent,
  type WaveReport
} from './run-report.js'
import { formatDuration } from '../core/duration.js'
import { errorText, htmlText, mermaidLabel } from '../core/untrusted-text.js'

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

/** How much of a part of the summary is shown. */
interface Caps {
  /** A name, an ID, a status, a reason: a table cell or a few words. */
  text: number
  /** A message: the failure, an input error, a warning, a plan line. */
  long: number
  cloudPcRows: number
  /** Items of every other list: policies, versions, events, checks, warnings. */
  rows: number
}

/**
 * Each step is tighter than the one before. A part starts at the first; while the summary is over
 * the limit, its largest part that can still shrink is drawn again at the next. At the last step
 * every part is a few kilobytes at most, so the whole fits.
 */
const CAPS: readonly Caps[] = [
  { text: 1_000, long: 20_000, cloudPcRows: MAX_CLOUD_PC_ROWS, rows: 1_000 },
  { text: 200, long: 4_000, cloudPcRows: 100, rows: 100 },
  { text: 60, long: 1_000, cloudPcRows: 10, rows: 20 },
  { text: 30, long: 300, cloudPcRows: 0, rows: 5 }
]

const heading = (html: string, level: 2 | 3): string => `<h${level}>${html}</h${level}>${EOL}`
const paragraph = (html: string): string => `<p>${html}</p>${EOL}`
const list = (items: string[]): string => `<ul>${items.map(item => `<li>${item}</li>`).join('')}</ul>${EOL}`
const details = (label: string, html: string): string => `<details><summary>${label}</summary>${html}</details>${EOL}`
const row = (cells: string[], tag: 'td' | 'th' = 'td'): string => `<tr>${cells.map(c => `<${tag}>${c}</${tag}>`).join('')}</tr>`
const moreItems = (total: number, shown: number, what: string): string =>
  total > shown ? paragraph(`… and ${total - shown} more ${what}, not listed here.`) : ''

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
function lead(report: RunReport, caps: Caps): string | undefined {
  const name = report.image?.displayName ?? report.displayName
  if (!name) return undefined
  const what = `<strong>${htmlText(name, caps.text)}</strong> ${htmlText(report.image?.version ?? report.version ?? '', caps.text)}`
  const took = report.endedAt ? ` after ${formatDuration(report.endedAt - report.startedAt)}` : ''
  const attempts =
    report.result && report.result !== 'planned'
      ? `, ${1 + report.uploadRetries} upload attempt${report.uploadRetries ? 's' : ''}`
      : ''
  const how = report.result ? ` (${htmlText(report.result, caps.text)}${attempts})` : ''
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
  /** The size the summary must stay under, the buffer's existing content included; default GitHub's limit. */
  limitBytes?: number
}

/** One part of the summary, drawn within `caps`. */
type Part = (report: RunReport, caps: Caps, links: RunLinks) => string

const PARTS: readonly Part[] = [
  (report, caps) => {
    const sentence = lead(report, caps)
    return heading(headline(report), 2) + (sentence ? paragraph(sentence) : '')
  },
  inputErrorsPart,
  failurePart,
  imageTable,
  preflightPart,
  (report, caps) => listPart('Check the image', report.imageWarnings, caps, 'warnings'),
  (report, caps) => listPart('Plan', report.plan, caps, 'steps'),
  timelinePart,
  policiesPart,
  cloudPcsPart,
  retentionPart,
  adminCenterLinks,
  footer
]

/**
 * Adds the summary of `report` to `summary`. Never throws: over the size limit its largest parts
 * are cut down first, and a report that cannot be drawn gets a short summary saying so.
 */
export function buildSummary(summary: Summary, report: RunReport, links: RunLinks, options: SummaryOptions = {}): Summary {
  const budget = (options.limitBytes ?? SUMMARY_LIMIT_BYTES) - Buffer.byteLength(summary.stringify())
  let html: string
  try {
    html = fitted(report, links, budget)
  } catch (error) {
    html = shortSummary(report, `the report could not be drawn (${errorText(error)})`)
  }
  return summary.addRaw(html)
}

function fitted(report: RunReport, links: RunLinks, budget: number): string {
  const levels = PARTS.map(() => 0)
  const html = PARTS.map(part => part(report, CAPS[0], links))
  const sizes = html.map(h => Buffer.byteLength(h))
  // Each step moves one part one level tighter: there are no more steps than that.
  for (let step = 0; step <= PARTS.length * (CAPS.length - 1); step++) {
    if (sizes.reduce((a, b) => a + b, 0) <= budget) return html.join('')
    let largest = -1
    for (let i = 0; i < PARTS.length; i++)
      if (levels[i] < CAPS.length - 1 && (largest < 0 || sizes[i] > sizes[largest])) largest = i
    if (largest < 0) break
    levels[largest]++
    html[largest] = PARTS[largest](report, CAPS[levels[largest]], links)
    sizes[largest] = Buffer.byteLength(html[largest])
  }
  return shortSummary(report, `it did not fit in the ${budget} bytes left for it, even cut down`)
}

/** The headline, the image and the failure, each read on its own so that one bad value spoils only itself. */
function shortSummary(report: RunReport, why: string): string {
  const caps = CAPS[CAPS.length - 1]
  const attempt = (draw: () => string): string => {
    try {
      return draw()
    } catch {
      return ''
    }
  }
  return [
    attempt(() => heading(headline(report), 2)) || heading('Cloud PC image', 2),
    attempt(() =>
      report.image
        ? paragraph(`Image <code>${htmlText(report.image.id, caps.text * 4)}</code>: ${htmlText(report.image.status, caps.text)}`)
        : ''
    ),
    attempt(() =>
      report.failure
        ? paragraph(
            `<strong>${htmlText(report.failure.title, caps.long)}</strong>: ${htmlText(report.failure.message, CAPS[1].long)}`
          )
        : ''
    ),
    paragraph(`The full summary was not written: ${htmlText(why, caps.long)}. The step's outputs and log have the details.`)
  ].join('')
}

function inputErrorsPart(report: RunReport, caps: Caps): string {
  if (report.inputErrors.length === 0) return ''
  const shown = report.inputErrors.slice(0, caps.rows)
  return (
    list(shown.map(e => `<code>${htmlText(e.input, caps.text)}</code>: ${htmlText(e.message, caps.long)}`)) +
    moreItems(report.inputErrors.length, shown.length, 'invalid inputs') +
    paragraph('No request was sent.')
  )
}

function failurePart(report: RunReport, caps: Caps): string {
  const failure = report.failure
  if (!failure) return ''
  return (
    paragraph(`<strong>${htmlText(failure.title, caps.text)}</strong>: ${htmlText(failure.message, caps.long)}`) +
    (failure.errorCode ? paragraph(`<strong>What to do:</strong> ${htmlText(failure.errorCode.remedy, caps.long)}`) : '')
  )
}

function listPart(title: string, items: string[], caps: Caps, what: string): string {
  if (items.length === 0) return ''
  const shown = items.slice(0, caps.rows)
  return heading(title, 3) + list(shown.map(item => htmlText(item, caps.long))) + moreItems(items.length, shown.length, what)
}

function footer(_report: RunReport, caps: Caps, links: RunLinks): string {
  const parts: string[] = []
  if (links.runUrl) parts.push(`<a href="${htmlText(links.runUrl, caps.long)}">Workflow run</a>`)
  if (links.commitUrl && links.sha)
    parts.push(`commit <a href="${htmlText(links.commitUrl, caps.long)}"><code>${htmlText(links.sha.slice(0, 7), 7)}</code></a>`)
  return parts.length > 0 ? paragraph(parts.join(' · ')) : ''
}

/** The Intune admin center of each cloud; it offers no documented deep link to one image or policy. */
const ADMIN_CENTER = { global: 'https://intune.microsoft.com', usgov: 'https://intune.microsoft.us' } as const

function adminCenterLinks(report: RunReport, caps: Caps): string {
  const image = report.image
  const policies = (report.policies ?? []).filter(p => p.result !== 'failed')
  if (!image && policies.length === 0) return ''
  const url = ADMIN_CENTER[report.cloud ?? 'global']
  const link = `<a href="${url}">Intune admin center</a>`
  const items: string[] = []
  if (image)
    items.push(
      `The image: ${link} › Devices › Windows 365 › Custom images › <strong>${htmlText(image.displayName, caps.text)}</strong> ${htmlText(image.version, caps.text)} (<code>${htmlText(image.id, caps.text)}</code>)`
    )
  const shown = policies.slice(0, caps.rows)
  for (const p of shown)
    items.push(
      `Policy: ${link} › Devices › Windows 365 › Provisioning policies › <strong>${htmlText(p.displayName || p.id, caps.text)}</strong> (<code>${htmlText(p.id, caps.text)}</code>)`
    )
  return heading('Open in Intune', 3) + list(items) + moreItems(policies.length, shown.length, 'policies')
}

function imageTable(report: RunReport, caps: Caps): string {
  const image = report.image
  if (!image && !report.displayName) return ''
  // A row without a value says nothing the reader can use: it is left out.
  const line = (label: string, value: unknown): string =>
    value === null || value === undefined || value === ''
      ? ''
      : `<tr><th>${label}</th><td>${htmlText(value, caps.text)}</td></tr>`
  const rows = [
    line('Name', image?.displayName ?? report.displayName),
    line('Version', image?.version ?? report.version),
    line('Image ID', image?.id),
    line('Status', image?.status),
    line('Error code', parseImageStatus(image?.status) === 'failed' ? image?.errorCode : undefined),
    line('Operating system', image?.operatingSystem),
    line('OS build', image?.osBuildNumber),
    line('OS version', image?.osVersionNumber),
    line('Size (GB)', image?.sizeInGB),
    line('OS status', image?.osStatus),
    line('Expires', image?.expirationDate),
    line('Source', image?.sourceImageResourceId ?? report.sourceImageResourceId),
    line('Result', report.result),
    line('Upload attempts', report.result && report.result !== 'planned' ? 1 + report.uploadRetries : undefined)
  ]
  return `<table>${rows.join('')}</table>${EOL}`
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

function timelinePart(report: RunReport, caps: Caps): string {
  if (report.timeline.length === 0) return ''
  const endedAt = report.endedAt ?? report.timeline[report.timeline.length - 1].at
  const all = phasesOf(report.timeline, endedAt)
  const phases = all.slice(0, caps.rows)
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
      const label = mermaidLabel(point(p) ? p.label : `${p.label} ${formatDuration(p.end - p.start)}`)
      const tags = point(p) ? (p.kind === 'crit' ? 'crit, milestone' : 'milestone') : p.kind
      return `  ${label} :${tags}, p${i}, ${p.start}, ${point(p) ? '0ms' : `${p.end - p.start}ms`}`
    })
  ].join('\n')
  const rows = phases.map(p =>
    row([
      formatDuration(p.start - report.startedAt),
      htmlText(p.kind === 'milestone' ? p.label : `${p.label} for ${formatDuration(p.end - p.start)}`, caps.text)
    ])
  )
  return (
    heading('Timeline', 3) +
    // GitHub draws a fenced mermaid block as a chart.
    `${EOL}\`\`\`mermaid\n${gantt}\n\`\`\`${EOL}${EOL}` +
    details('Timeline as a table', `<table><tr><th>At</th><th>Event</th></tr>${rows.join('')}</table>`) +
    moreItems(all.length, phases.length, 'events')
  )
}

function policiesPart(report: RunReport, caps: Caps): string {
  const policies = report.policies ?? []
  if (policies.length === 0) return ''
  const shown = policies.slice(0, caps.rows)
  const rows = shown.map(p =>
    row([
      htmlText(p.displayName || '—', caps.text),
      `<code>${htmlText(p.id, caps.text)}</code>`,
      htmlText(p.error ? `${p.result}: ${p.error}` : p.result, caps.text)
    ])
  )
  return (
    heading('Provisioning policies', 3) +
    `<table>${row(['Policy', 'ID', 'Result'], 'th')}${rows.join('')}</table>${EOL}` +
    moreItems(policies.length, shown.length, 'policies')
  )
}

function cloudPcsPart(report: RunReport, caps: Caps): string {
  const pcs = report.cloudPcs
  if (!pcs || pcs.length === 0) return ''
  const head = heading('Cloud PCs', 3) + paragraph(htmlText(cloudPcLine(pcs), caps.long)) + wavesTable(report, caps)
  // Problems first, so they are seen even when the table is long or cut.
  const ordered = [...pcs].sort((a, b) => CLOUD_PC_OUTCOMES[a.result].rank - CLOUD_PC_OUTCOMES[b.result].rank)
  const shown = ordered.slice(0, caps.cloudPcRows)
  const more = pcs.length > shown.length ? `<p>… and ${pcs.length - shown.length} more, not listed here.</p>` : ''
  if (shown.length === 0) return head + more + EOL
  const cell = (value: unknown) => htmlText(value, caps.text)
  const rows = shown.map(pc =>
    row([
      cell(pc.wave ?? '—'),
      `<code>${cell(pc.id)}</code>`,
      cell(pc.displayName || '—'),
      cell(pc.userPrincipalName || '—'),
      cell(pc.status || '—'),
      cell(CLOUD_PC_OUTCOMES[pc.result].words),
      cell(pc.error ?? '')
    ])
  )
  const table = `<table>${row(['Wave', 'Cloud PC', 'Name', 'User', 'Status before', 'Outcome', 'Why'], 'th')}${rows.join('')}</table>${more}`
  return head + (pcs.length > FOLD_ABOVE_ROWS ? details(`All ${pcs.length} Cloud PCs`, table) : table + EOL)
}

function cloudPcLine(pcs: CloudPcResult[]): string {
  const planned = pcs.filter(pc => pc.result === 'would reprovision').length
  const left = pcs.filter(pc => pc.result === 'would skip').length
  if (pcs.some(pc => CLOUD_PC_OUTCOMES[pc.result].stage === 'planned'))
    return `${planned} Cloud PC${planned === 1 ? '' : 's'} would be reprovisioned${left ? `, ${left} left alone` : ''}.`
  return `${outcomeCounts(pcs.map(pc => pc.result))}.`
}

function wavesTable(report: RunReport, caps: Caps): string {
  const waves = report.waves
  if (!waves || waves.length === 0) return ''
  const pcs = report.cloudPcs ?? []
  const shown = waves.slice(0, caps.rows)
  const rows = shown.map(w => {
    const members = pcs.filter(pc => pc.wave === w.number)
    const started = w.startedAt === undefined ? '—' : formatDuration(w.startedAt - report.startedAt)
    const took = w.startedAt === undefined || w.endedAt === undefined ? '—' : formatDuration(w.endedAt - w.startedAt)
    const counts = w.outcome === 'planned' ? `${w.size} would be reprovisioned` : outcomeCounts(members.map(pc => pc.result))
    return row([String(w.number), htmlText(w.target, caps.text), String(w.size), started, took, WAVE_WORDS[w.outcome], counts])
  })
  const header = row(['Wave', 'Up to', 'Cloud PCs', 'Started at', 'Took', 'Outcome', "Cloud PCs' outcomes"], 'th')
  return `<table>${header}${rows.join('')}</table>${EOL}` + moreItems(waves.length, shown.length, 'waves')
}

const WAVE_WORDS: Record<WaveReport['outcome'], string> = {
  planned: 'planned',
  pending: 'not started',
  running: 'running',
  finished: 'finished',
  accepted: 'requested, not waited for',
  timedOut: 'timed out',
  withheld: 'withheld',
  cancelled: 'cancelled',
  stopped: 'stopped by an error'
}

function preflightPart(report: RunReport, caps: Caps): string {
  const preflight = report.preflight
  if (!preflight) return ''
  let html = heading('Source image checks', 3)
  if (preflight.notRun) html += paragraph(htmlText(preflight.notRun, caps.long))
  if (preflight.checks.length === 0) return html
  const shown = preflight.checks.slice(0, caps.rows)
  const rows = shown.map(c =>
    row([
      htmlText(c.name, caps.text),
      c.passed ? '✅ passed' : '❌ failed',
      htmlText(c.reported, caps.text),
      htmlText(c.passed ? '' : `${c.errorCode}. ${c.fix}`, caps.long)
    ])
  )
  const header = row(['Requirement', 'Result', 'Azure Resource Manager reports', 'Otherwise the upload fails with'], 'th')
  return html + `<table>${header}${rows.join('')}</table>${EOL}` + moreItems(preflight.checks.length, shown.length, 'checks')
}

function retentionPart(report: RunReport, caps: Caps): string {
  const retention = report.retention
  if (!retention) return ''
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
  let html = heading('Retention', 3) + paragraph(`With keepVersions ${retention.keepVersions}: ${parts.join(', ')}.`)
  if (retention.notRun) html += paragraph(htmlText(retention.notRun, caps.long))
  if (entries.length === 0) return html
  const shown = entries.slice(0, caps.rows)
  const rows = shown.map(e =>
    row([
      htmlText(e.version, caps.text),
      `<code>${htmlText(e.id, caps.text)}</code>`,
      htmlText(e.status || '—', caps.text),
      htmlText(e.outcome, caps.text),
      htmlText(e.why, caps.long)
    ])
  )
  const table =
    `<table>${row(['Version', 'Image ID', 'Status', 'Outcome', 'Why'], 'th')}${rows.join('')}</table>` +
    (entries.length > shown.length ? `<p>… and ${entries.length - shown.length} more, not listed here.</p>` : '')
  return (
    html +
    (entries.length > FOLD_ABOVE_ROWS
      ? details(`All ${entries.length} versions of ${htmlText(report.displayName ?? '', caps.text)}`, table)
      : table + EOL)
  )
}
