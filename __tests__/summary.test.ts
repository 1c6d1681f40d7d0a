import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as core from '@actions/core'
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { ROOT } from '../scripts/runner.js'
import { run } from '../src/main.js'
import { outputsOf } from '../src/report/outputs.js'
import { newReport } from '../src/report/run-report.js'
import { timelineAxis, buildSummary, phasesOf, SUMMARY_LIMIT_BYTES } from '../src/report/summary.js'
import { escapeHtml } from '../src/core/untrusted-text.js'
import { baseInputs, runInProcess } from './helpers/run-in-process.js'
import { RecordingLogger } from './helpers/recording-logger.js'
import { guid } from './helpers/ids.js'

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
  })

  it('stays under the size limit with 1,000 Cloud PCs of long names', () => {
    const report = newReport(0)
    report.cloudPcs = Array.from({ length: 5000 }, (_, i) => ({
      id: guid('00000000', i),
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

/** Mermaid's own gantt lexer (its rules, read from the installed bundle): first matching rule wins. */
function ganttLexer(): { rules: RegExp[]; initial: number[] } {
  const dir = join(ROOT, 'node_modules', 'mermaid', 'dist', 'chunks', 'mermaid.core')
  const file = readdirSync(dir).find(name => /^ganttDiagram-.*\.mjs$/.test(name))!
  const source = readFileSync(join(dir, file), 'utf8')
  const found = /rules: (\[.*?\]),\s*conditions: (\{.*?\})\s*\n/s.exec(source)!
  const rules = new Function(`return ${found[1]}`)() as RegExp[]
  const conditions = JSON.parse(found[2]) as { INITIAL: { rules: number[] } }
  return { rules, initial: conditions.INITIAL.rules }
}

/** Each line of the summary's gantt block as the sources of the lexer rules that read it. */
function ganttTokens(summary: string): string[][] {
  const { rules, initial } = ganttLexer()
  const block = /```mermaid\n([\s\S]*?)\n```/.exec(summary)![1]
  return block.split('\n').map(line => {
    const tokens: string[] = []
    for (let rest = line; rest.length > 0;) {
      const rule = initial.map(i => rules[i]).find(r => (r.exec(rest)?.[0].length ?? 0) > 0)!
      tokens.push(rule.source)
      rest = rest.slice(rule.exec(rest)![0].length)
    }
    return tokens
  })
}

describe('foreign text in the summary', () => {
  it('stays inside its cell: a blank line, a Markdown heading and a pipe in a name', () => {
    const report = newReport(0)
    report.displayName = 'Win11\n\n# Heading'
    report.policies = [{ id: 'pol-1', displayName: 'Dev\n\n# Heading | a | b', result: 'failed', error: '400\r\n\r\n**bold**' }]
    report.cloudPcs = [
      {
        id: 'pc-1',
        displayName: 'CPC\u2028\u2028## Two',
        userPrincipalName: 'u@x\n\n- item',
        status: 'provisioned',
        result: 'failed',
        error: '\n\n</td></tr></table># Out'
      }
    ]
    report.failure = { title: 'Failed\n\n# Title', message: 'Refused.\n\n# Heading\n\n<script>alert(1)</script>' }
    const html = buildSummary(core.summary.emptyBuffer(), report, {}).stringify()
    expect(html).toContain('<td>Dev<br><br># Heading | a | b</td>')
    expect(html).toContain('<td>failed: 400<br><br>**bold**</td>')
    expect(html).toContain('<td><br><br>&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;# Out</td>')
    expect(html).toContain('Refused.<br><br># Heading<br><br>&lt;script&gt;')
    // Every line is one the summary began: an HTML element, never Markdown of someone else's.
    for (const line of html.split('\n')) expect(line === '' || line.startsWith('<')).toBe(true)
  })

  it('a status that spells gantt statements is a task label, read as one by mermaid', () => {
    const statuses = [
      'click p0 href "javascript:alert(1)"',
      'pending\nsection Evil',
      'title Hacked',
      'axisFormat %Y',
      'dateFormat YYYY',
      'excludes weekends',
      'todayMarker off',
      'x%% hidden',
      '%%{init: {"theme":"dark"}}%%',
      'a; b :crit, 0, 1ms # c',
      '2024-01-01'
    ]
    const report = newReport(0)
    report.timeline = statuses.map((label, i) => ({ at: i * 1000, label, kind: 'status' as const }))
    report.endedAt = statuses.length * 1000
    const html = buildSummary(core.summary.emptyBuffer(), report, {}).stringify()
    const lines = ganttTokens(html)
    const header = lines.slice(0, 5).map(tokens => tokens.filter(t => t !== '^(?:\\s+)'))
    expect(header).toEqual([
      ['^(?:gantt\\b)'],
      ['^(?:dateFormat\\s[^#\\n;]+)'],
      ['^(?:axisFormat\\s[^#\\n;]+)'],
      ['^(?:tickInterval\\s[^#\\n;]+)'],
      ['^(?:section\\s[^\\n]+)']
    ])
    // Each status is exactly one task: its text, then the data the summary wrote.
    expect(lines.slice(5)).toEqual(statuses.map(() => ['^(?:\\s+)', '^(?:[^:\\n]+)', '^(?::[^#\\n;]+)']))
    expect(html).toContain('  - click p0 href javascript alert(1) 1.0s :active, p0, 0, 1000ms')
    expect(html).toContain('  pending section Evil 1.0s :active, p1, 1000, 1000ms')
  })

  it('a 2 MB failure message is cut, and the rest of the summary is kept under the limit', () => {
    const report = newReport(0)
    report.image = {
      id: 'img-1',
      displayName: 'Win11-Dev',
      version: '1.4.0',
      sourceImageResourceId: '/x',
      status: 'failed',
      errorCode: 'x'
    }
    report.outcome = 'failed'
    report.cloudPcs = Array.from({ length: 30 }, (_, i) => ({
      id: `pc-${i}`,
      displayName: `CPC-${i}`,
      userPrincipalName: `u${i}@contoso.com`,
      status: 'provisioned',
      result: 'reprovisioned' as const
    }))
    const message = `Refused: ${'"<>'.repeat(700_000)}`
    report.failure = { title: 'Graph POST failed: 400 badRequest', message }
    const html = buildSummary(core.summary.emptyBuffer(), report, {}).stringify()
    expect(Buffer.byteLength(html)).toBeLessThan(SUMMARY_LIMIT_BYTES)
    expect(html).toContain('<strong>Graph POST failed: 400 badRequest</strong>: Refused: &quot;&lt;&gt;')
    expect(html).toMatch(/… \(\d+ more characters\)<\/p>/)
    // Only the longest part was cut: the image table and all 30 Cloud PCs are there.
    expect(html).toContain('<tr><th>Image ID</th><td>img-1</td></tr>')
    expect(html).toContain('<code>pc-29</code>')
  })

  it('Cloud PC rows full of characters HTML makes six bytes of are cut down until the summary fits', () => {
    const report = newReport(0)
    report.cloudPcs = Array.from({ length: 1000 }, (_, i) => ({
      id: `pc-${i}`,
      displayName: '"'.repeat(1000),
      userPrincipalName: '"'.repeat(1000),
      status: 'provisioned',
      result: 'reprovisioned' as const,
      error: '"'.repeat(1000)
    }))
    const html = buildSummary(core.summary.emptyBuffer(), report, {}).stringify()
    expect(Buffer.byteLength(html)).toBeLessThan(SUMMARY_LIMIT_BYTES)
    expect(html).toContain('<h3>Cloud PCs</h3>')
    expect(html).toContain('<code>pc-0</code>')
    expect(html).toMatch(/… and \d+ more, not listed here\./)
  })

  it('a summary that cannot fit even cut down is a short one', () => {
    const report = { ...newReport(0), outcome: 'ready' as const, plan: ['Create the image. '.repeat(100)] }
    const html = buildSummary(core.summary.emptyBuffer().addRaw('x'.repeat(900)), report, {}, { limitBytes: 1000 }).stringify()
    expect(html).toMatch(/^x{900}<h2>✅ Cloud PC image ready<\/h2>/)
    expect(html).toContain('The full summary was not written: it did not fit in the 100 bytes left for it, even cut down.')
  })

  it('a report that cannot be drawn still gets a short summary', () => {
    const report = newReport(0)
    report.outcome = 'failed'
    report.failure = { title: 'Graph GET failed', message: 'Refused.' }
    Object.defineProperty(report, 'timeline', {
      get() {
        throw new Error('timeline unreadable')
      }
    })
    const html = buildSummary(core.summary.emptyBuffer(), report, {}).stringify()
    expect(html).toContain('<h2>❌ Cloud PC image publish failed</h2>')
    expect(html).toContain('<p><strong>Graph GET failed</strong>: Refused.</p>')
    expect(html).toContain('The full summary was not written: the report could not be drawn (timeline unreadable).')
  })
})

describe('the job summary of a run whose Graph error is as long as an error answer may be', () => {
  let dir: string | undefined
  afterEach(() => {
    delete process.env.GITHUB_STEP_SUMMARY
    if (dir) rmSync(dir, { recursive: true, force: true })
    dir = undefined
  })

  it('is written under the limit, with the start of the message, and the outputs are set', async () => {
    dir = mkdtempSync(join(tmpdir(), 'summary-'))
    const file = join(dir, 'summary.md')
    writeFileSync(file, '')
    process.env.GITHUB_STEP_SUMMARY = file
    emulator = await startEmulator({
      faults: [
        {
          method: 'POST',
          path: /deviceImages$/,
          times: 1,
          fault: {
            kind: 'malformed',
            status: 400,
            // Just under the limit of an error answer (a longer one is refused as malformed).
            body: JSON.stringify({ error: { code: 'badRequest', message: `Source refused. ${'x'.repeat(60_000)}` } })
          }
        }
      ]
    })
    const outputs: Record<string, string> = {}
    const code = await run({
      getInput: name => baseInputs(emulator!)[name] ?? '',
      setOutput: (name, value) => void (outputs[name] = value),
      setSecret: () => undefined,
      getIDToken: async () => {
        throw new Error('no OIDC here')
      },
      runAz: async () => ({ ok: false, missing: true, message: 'az: not found' }),
      logger: new RecordingLogger(),
      retry: { baseDelayMs: 5, maxDelayMs: 50, stepBudgetMs: 2000 }
    })
    expect(code).toBe(1)
    const summary = readFileSync(file, 'utf8')
    expect(Buffer.byteLength(summary)).toBeLessThan(SUMMARY_LIMIT_BYTES)
    expect(summary).toContain('<h2>❌ Cloud PC image publish failed</h2>')
    expect(summary).toContain('answered HTTP 400: Source refused. xxxx')
    expect(summary).toMatch(/… \(\d+ more characters\)<\/p>/)
    expect(outputs).toMatchObject({ updatedPolicyIds: '[]', deletedImageIds: '[]' })
  })
})
