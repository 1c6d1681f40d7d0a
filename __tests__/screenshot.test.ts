// Renders the demo's job summary in headless Chromium, as GitHub would show it, and takes a picture.
// It needs Chromium, so `npm test` leaves it out: `npm run test:browser` runs it (see jest.config.js).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { demoSummary, findChromium, renderPage, summaryPage } from '../scripts/summary-screenshot.js'

const dir = mkdtempSync(join(tmpdir(), 'summary-shot-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the summary as people see it', () => {
  it('renders the demo summary with its timeline chart and takes a screenshot', async () => {
    // The browser is set up outside the tests: `npm run browser` (which .ci/run calls).
    const chromium = findChromium()
    if (!chromium) throw new Error('No Chromium found: run `npm run browser`, or set CHROMIUM_PATH.')
    const summary = await demoSummary(0.2)
    const png = join(dir, 'summary.png')
    const dom = await renderPage(summaryPage(summary), png, chromium)
    expect(dom).toContain('✅ Cloud PC image ready')
    // Mermaid drew the gantt chart: an SVG with a bar per phase and the retry as a milestone.
    const chart = /<pre class="mermaid"[^>]*>([\s\S]*?)<\/pre>/.exec(dom)?.[1] ?? ''
    expect(chart).toContain('<svg')
    expect(chart).toMatch(/class="[^"]*\bcrit/)
    expect(chart).toContain('retry 1')
    // Legible: the failure retried at once is a point (a crit milestone), not a sliver of a bar,
    // and the axis labels are each different.
    expect(chart).toMatch(/class="[^"]*(milestone[^"]*crit|crit[^"]*milestone)/)
    const ticks = [...chart.matchAll(/<g class="tick"[^>]*>[\s\S]*?<text[^>]*>([^<]*)<\/text>/g)].map(m => m[1])
    expect(ticks.length).toBeGreaterThanOrEqual(1)
    expect(new Set(ticks).size).toBe(ticks.length)
    const image = readFileSync(png)
    expect(image.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a')
    expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([960, 1900])
    expect(image.length).toBeGreaterThan(30_000)
  }, 60_000)
})
