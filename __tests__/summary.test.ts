import * as core from '@actions/core'
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { outputsOf } from '../src/outputs.js'
import { newReport } from '../src/report.js'
import { timelineAxis, buildSummary, escapeHtml, phasesOf } from '../src/summary.js'
import { baseInputs, runInProcess } from './helpers/run-in-process.js'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
  core.summary.emptyBuffer()
})

async function summaryOf(options: EmulatorOptions, inputs: Record<string, string> = {}) {
  emulator = await startEmulator(options)
  const r = await runInProcess(baseInputs(emulator, inputs))
  return { ...r, image: emulator.images()[0] }
}

describe('job summary', () => {
  it('a success: heading, one-line lead, image table, gantt timeline', async () => {
    const { summary, image } = await summaryOf({ defaultUpload: [{ pendingMs: 150, outcome: 'ready' }] })
    expect(summary).toContain('<h2>✅ Cloud PC image ready</h2>')
    expect(summary).toMatch(/<p><strong>Win11-Dev<\/strong> 1\.4\.0 is ready after [\d.]+s \(created, 1 upload attempt\)\.<\/p>/)
    for (const [label, value] of [
      ['Image ID', image.id],
      ['Status', 'ready'],
      ['Operating system', 'Windows 11 Enterprise'],
      ['OS build', '24H2'],
      ['Size (GB)', '64'],
      ['OS status', 'supported'],
      ['Expires', image.expirationDate],
      ['Result', 'created'],
      ['Upload attempts', '1']
    ])
      expect(summary).toContain(`<tr><th>${label}</th><td>${value}</td></tr>`)
    // Rows without a value are left out, not shown as a dash.
    expect(summary).not.toContain('<th>Error code</th>')
    expect(summary).not.toContain('—')
    expect(summary).toMatch(/```mermaid\ngantt\n {2}dateFormat x\n/)
    expect(summary).toMatch(/ {2}created :milestone, p0, \d{13}, 0ms/)
    expect(summary).toMatch(/ {2}pending( [\d.]+s)? :active, p1, \d{13}, \d+ms/)
    expect(summary).toMatch(/ {2}ready :milestone, p2, \d{13}, 0ms/)
    expect(summary).not.toContain('What to do')
  })

  it('a retried success: the failure and the retry appear in the timeline, two attempts', async () => {
    const { summary } = await summaryOf({
      defaultUpload: [
        { pendingMs: 100, outcome: 'failed', errorCode: 'internalServerError' },
        { pendingMs: 100, outcome: 'ready' }
      ]
    })
    expect(summary).toContain('<h2>✅ Cloud PC image ready</h2>')
    expect(summary).toContain('(created, 2 upload attempts)')
    expect(summary).toContain('<tr><th>Upload attempts</th><td>2</td></tr>')
    expect(summary).toMatch(/ {2}failed \(internalServerError\)( [\d.]+s)? :crit(, milestone)?, p2, /)
    expect(summary).toMatch(/ {2}retry 1 :milestone, p3, /)
    expect(summary).toMatch(/<td>failed \(internalServerError\) for [\d.]+s<\/td>/)
  })

  it('a failure: code, what it means and what to do', async () => {
    const { summary } = await summaryOf({
      defaultUpload: [{ pendingMs: 80, outcome: 'failed', errorCode: 'vmAlreadyAzureAdjoined' }]
    })
    expect(summary).toContain('<h2>❌ Cloud PC image upload failed</h2>')
    expect(summary).toContain('<strong>Image upload failed: vmAlreadyAzureAdjoined</strong>')
    expect(summary).toContain('<tr><th>Error code</th><td>vmAlreadyAzureAdjoined</td></tr>')
    expect(summary).toContain('<p><strong>What to do:</strong> Rebuild from a VM that was never joined to Entra ID')
  })

  it('a time-out: says the upload goes on, keeps the image ID', async () => {
    const { summary, image } = await summaryOf(
      { defaultUpload: [{ pendingMs: 60_000, outcome: 'ready' }] },
      { timeoutMinutes: '0.005' }
    )
    expect(summary).toContain('<h2>⏱️ Timed out waiting for the Cloud PC image</h2>')
    expect(summary).toContain('was not ready after')
    expect(summary).toContain('the upload goes on in the service')
    expect(summary).toContain(`<tr><th>Image ID</th><td>${image.id}</td></tr>`)
    expect(summary).toContain('<tr><th>Status</th><td>pending</td></tr>')
  })

  it('escapes every string from the service and the user', async () => {
    const { summary } = await summaryOf(
      { defaultUpload: [{ pendingMs: 50, outcome: 'ready' }] },
      { displayName: 'Win11 <img src=x onerror=alert(1)> & "dev"' }
    )
    expect(summary).not.toContain('<img')
    expect(summary).toContain('Win11 &lt;img src=x onerror=alert(1)&gt; &amp; &quot;dev&quot;')
  })

  it('folds a long Cloud PC table and keeps failures first', () => {
    const report = newReport(0)
    report.cloudPcs = Array.from({ length: 30 }, (_, i) => ({
      id: `pc-${i}`,
      displayName: `CPC-${i}`,
      userPrincipalName: `u${i}@contoso.com`,
      status: 'provisioned',
      wave: 1,
      result: i === 17 ? ('failed' as const) : ('reprovisioned' as const),
      error: i === 17 ? '400 badRequest' : undefined
    }))
    const html = buildSummary(core.summary.emptyBuffer(), report, {}).stringify()
    expect(html).toContain('<details><summary>All 30 Cloud PCs</summary>')
    expect(html.indexOf('pc-17')).toBeLessThan(html.indexOf('pc-0<'))
    expect(html).toContain('29 reprovisioned (seen provisioned again), 1 failed.')
    const capped = buildSummary(core.summary.emptyBuffer(), report, {}, { maxCloudPcRows: 5 }).stringify()
    expect(capped).toContain('… and 25 more, not listed here.')
  })

  it('stays under the size limit with 1,000 Cloud PCs of long names', () => {
    const report = newReport(0)
    report.cloudPcs = Array.from({ length: 5000 }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      displayName: 'CPC-'.padEnd(60, 'x'),
      userPrincipalName: `someone.with.a.long.name.${i}@contoso-engineering.onmicrosoft.com`,
      status: 'provisionedWithWarnings',
      wave: 3,
      result: 'reprovisioned' as const,
      error: 'x'.repeat(200)
    }))
    const html = buildSummary(core.summary.emptyBuffer(), report, {}).stringify()
    expect(Buffer.byteLength(html)).toBeLessThan(1024 * 1024)
    expect(html).toContain('… and 4000 more')
  })

  it('turns the timeline into phases: statuses last until the next event, actions are moments', () => {
    const phases = phasesOf(
      [
        { at: 0, label: 'created', kind: 'action' },
        { at: 0, label: 'pending', kind: 'status' },
        { at: 600_000, label: 'failed', kind: 'status' },
        { at: 660_000, label: 'retry 1', kind: 'action' },
        { at: 720_000, label: 'pending', kind: 'status' },
        { at: 1_800_000, label: 'ready', kind: 'status' }
      ],
      1_800_000
    )
    expect(phases.map(p => [p.label, p.kind, p.end - p.start])).toEqual([
      ['created', 'milestone', 0],
      ['pending', 'active', 600_000],
      ['failed', 'crit', 60_000],
      ['retry 1', 'milestone', 0],
      ['pending', 'active', 1_140_000],
      ['ready', 'milestone', 0]
    ])
    expect(escapeHtml(`a<b>&'"`)).toBe('a&lt;b&gt;&amp;&#39;&quot;')
  })
})

describe('status read in any case', () => {
  const failedImage = {
    id: 'img-1',
    displayName: 'Win11-Dev',
    version: '1.4.0',
    sourceImageResourceId: '/subscriptions/x',
    status: 'FAILED',
    errorCode: 'internalServerError'
  }

  it('shows the error code of an image whose status comes in another case', () => {
    const report = { ...newReport(0), image: failedImage, outcome: 'failed' as const }
    expect(buildSummary(core.summary.emptyBuffer(), report, {}).stringify()).toContain(
      '<tr><th>Error code</th><td>internalServerError</td></tr>'
    )
  })

  it('sets the errorCode output for it', () => {
    const report = { ...newReport(0), image: failedImage, outcome: 'failed' as const }
    expect(outputsOf(report).errorCode).toBe('internalServerError')
  })
})

describe('warnings about a usable image', () => {
  it('lists each one under "Check the image"', () => {
    const report = {
      ...newReport(0),
      outcome: 'ready' as const,
      imageWarnings: ['Image img-1 has osStatus supportedWithWarning: <b>']
    }
    const summary = buildSummary(core.summary.emptyBuffer(), report, {}).stringify()
    expect(summary).toContain('<h3>Check the image</h3>')
    expect(summary).toContain('<li>Image img-1 has osStatus supportedWithWarning: &lt;b&gt;</li>')
  })
})

describe('timeline axis', () => {
  it.each([
    [800, '%H:%M:%S', '1second'],
    [5_000, '%H:%M:%S', '1second'],
    [30_000, '%H:%M:%S', '5second'],
    [5 * 60_000, '%H:%M', '1minute'],
    [45 * 60_000, '%H:%M', '10minute'],
    [2 * 3600_000, '%H:%M', '30minute'],
    [30 * 3600_000, '%H:%M', '6hour']
  ])('a span of %i ms: %s, a tick every %s', (span, format, tick) => {
    expect(timelineAxis(span)).toEqual({ format, tick })
  })

  it('draws a status too short to see as a point, and a failure as a red one', () => {
    const report = newReport(0)
    report.timeline = [
      { at: 0, label: 'created', kind: 'action' },
      { at: 0, label: 'pending', kind: 'status' },
      { at: 600_000, label: 'failed (internalServerError)', kind: 'status' },
      { at: 600_002, label: 'retry 1', kind: 'action' },
      { at: 600_002, label: 'pending', kind: 'status' },
      { at: 1_200_000, label: 'ready', kind: 'status' }
    ]
    report.endedAt = 1_200_000
    const html = buildSummary(core.summary.emptyBuffer(), report, {}).stringify()
    expect(html).toContain('  failed (internalServerError) :crit, milestone, p2, 600000, 0ms')
    expect(html).toContain('  pending 10m 0s :active, p1, 0, 600000ms')
    expect(html).toContain('  tickInterval 5minute')
  })
})

describe('links to the Intune admin center', () => {
  it('names the image and each updated policy, in the admin center of the run’s cloud', () => {
    const report = newReport(0)
    report.cloud = 'usgov'
    report.image = {
      id: 'img-1',
      displayName: 'Win11-Dev',
      version: '1.4.0',
      sourceImageResourceId: '/x',
      status: 'ready',
      errorCode: null
    }
    report.policies = [
      { id: 'pol-1', displayName: 'Developers', result: 'updated' },
      { id: 'pol-2', displayName: 'Designers', result: 'failed', error: '400' }
    ]
    const html = buildSummary(core.summary.emptyBuffer(), report, {}).stringify()
    expect(html).toContain('<h3>Open in Intune</h3>')
    expect(html).toContain(
      'The image: <a href="https://intune.microsoft.us">Intune admin center</a> › Devices › Windows 365 › Custom images › <strong>Win11-Dev</strong> 1.4.0 (<code>img-1</code>)'
    )
    expect(html).toContain('Provisioning policies › <strong>Developers</strong> (<code>pol-1</code>)')
    expect(html).not.toContain('pol-2</code>)</li>')
  })

  it('has nothing to link before an image exists', () => {
    const html = buildSummary(core.summary.emptyBuffer(), newReport(0), {}).stringify()
    expect(html).not.toContain('Open in Intune')
  })
})
