// Renders a job summary the way GitHub shows it (its HTML, with fenced mermaid blocks drawn as
// charts) in headless Chromium, and takes a screenshot. `npm run screenshot` runs the demo's story
// with the bundled action and writes docs/summary.png, which the README shows.

import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { startEmulator } from '../emulator/index.js'
import { demoEmulator, demoInputs } from './demo-scenario.js'
import { ROOT, RUN_CONTEXT, runAction } from './runner.js'

const run = promisify(execFile)
const MERMAID = join(ROOT, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js')
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

export function findChromium(): string | undefined {
  return [process.env.CHROMIUM_PATH, ...CANDIDATES].find((path): path is string => !!path && existsSync(path))
}

const STYLE = `
  body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; margin: 24px; max-width: 900px; }
  h2 { font-size: 1.5em; border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; }
  h3 { font-size: 1.25em; margin-top: 24px; }
  table { border-collapse: collapse; margin: 8px 0 16px; }
  th, td { border: 1px solid #d1d9e0; padding: 6px 13px; text-align: left; }
  th { background: #f6f8fa; font-weight: 600; }
  code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #eff1f3; padding: .2em .4em; border-radius: 6px; }
  a { color: #0969da; }
  details { margin: 8px 0; }`

/** The summary as a page: its HTML as is, fenced mermaid blocks turned into charts. */
export function summaryPage(summary: string): string {
  const body = summary.replace(/```mermaid\n([\s\S]*?)```/g, (_m, chart: string) => `<pre class="mermaid">${chart}</pre>`)
  return `<!doctype html><html><head><meta charset="utf-8"><style>${STYLE}</style>
<script src="${pathToFileURL(MERMAID).href}"></script>
<script>mermaid.initialize({ startOnLoad: true, theme: 'default', gantt: { useWidth: 860 } })</script>
</head><body>${body}</body></html>`
}

/** Loads the page in headless Chromium; returns the DOM after scripts ran, and writes a screenshot. */
export async function renderPage(html: string, png: string, chromium: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'summary-page-'))
  try {
    const page = join(dir, 'summary.html')
    writeFileSync(page, html)
    const flags = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      '--allow-file-access-from-files',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--virtual-time-budget=10000',
      '--window-size=960,1900'
    ]
    const url = pathToFileURL(page).href
    const { stdout } = await run(chromium, [...flags, '--dump-dom', url], { maxBuffer: 16 * 1024 * 1024 })
    await run(chromium, [...flags, `--screenshot=${png}`, url])
    return stdout
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The demo's story through the bundled action; returns its summary. */
export async function demoSummary(scale: number): Promise<string> {
  const emulator = await startEmulator(demoEmulator(scale))
  try {
    const result = await runAction({ inputs: demoInputs(emulator, scale), env: RUN_CONTEXT })
    if (result.code !== 0) throw new Error(`the demo run failed:\n${result.stdout}`)
    return result.summary
  } finally {
    await emulator.close()
  }
}

const isMain = process.argv[1]?.endsWith('summary-screenshot.ts')
if (isMain) {
  const chromium = findChromium()
  if (!chromium) throw new Error('Chromium is missing: run scripts/ensure-chromium.sh (Debian: apt-get install chromium).')
  mkdirSync(join(ROOT, 'docs'), { recursive: true })
  const out = join(ROOT, 'docs', 'summary.png')
  await renderPage(summaryPage(await demoSummary(1)), out, chromium)
  console.log(`Wrote ${out}`)
}
