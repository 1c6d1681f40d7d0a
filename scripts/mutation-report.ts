// The second half of `npm run mutation`: reads Stryker's JSON report, writes the per-file figures to
// bench/mutation.json and the table between <!-- mutation:start --> and <!-- mutation:end --> in
// BENCHMARKS.md and bench/NOTES.md (BENCHMARKS.md ends with NOTES.md, and `npm run bench` rewrites it
// from there, so both hold the same table). Surviving mutants go to reports/mutation/survivors.txt.
//
// The start of the run comes from MUTATION_STARTED_AT (seconds since the epoch, set by the npm
// script); without it the duration is left out rather than guessed.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { MutantResult, MutantStatus, MutationTestResult } from 'mutation-testing-report-schema'
import { formatMarkdown, replaceBlock } from './readme-blocks.js'
import { ROOT } from './runner.js'

/** Per-file target for the mutation score, in percent. */
const TARGET = 85

const REPORT = join(ROOT, 'reports', 'mutation', 'mutation.json')
const SURVIVORS = join(ROOT, 'reports', 'mutation', 'survivors.txt')
const FIGURES = join(ROOT, 'bench', 'mutation.json')
const DOCS = [join(ROOT, 'BENCHMARKS.md'), join(ROOT, 'bench', 'NOTES.md')]

interface FileFigures {
  killed: number
  timeout: number
  survived: number
  noCoverage: number
  compileErrors: number
  runtimeErrors: number
  ignored: number
  total: number
  /** (killed + timeout) / (killed + timeout + survived + noCoverage), in percent; null with no valid mutant. */
  score: number | null
}

const COUNTED: Record<MutantStatus, keyof FileFigures | undefined> = {
  Killed: 'killed',
  Timeout: 'timeout',
  Survived: 'survived',
  NoCoverage: 'noCoverage',
  CompileError: 'compileErrors',
  RuntimeError: 'runtimeErrors',
  Ignored: 'ignored',
  Pending: undefined
}

/** Counts as Stryker's "mutation score": errors and ignored mutants are not valid, so they do not count. */
function figures(mutants: readonly MutantResult[]): FileFigures {
  const f: FileFigures = {
    killed: 0,
    timeout: 0,
    survived: 0,
    noCoverage: 0,
    compileErrors: 0,
    runtimeErrors: 0,
    ignored: 0,
    total: mutants.length,
    score: null
  }
  for (const m of mutants) {
    const key = COUNTED[m.status]
    if (key) f[key]++
  }
  const detected = f.killed + f.timeout
  const valid = detected + f.survived + f.noCoverage
  f.score = valid === 0 ? null : Math.round((detected / valid) * 10000) / 100
  return f
}

/** The original code a mutant replaced, on one line. */
function original(source: string, m: MutantResult): string {
  const lines = source.split('\n')
  const { start, end } = m.location
  // Stryker's locations are 1-based in lines and columns.
  const text =
    start.line === end.line
      ? lines[start.line - 1].slice(start.column - 1, end.column - 1)
      : [
          lines[start.line - 1].slice(start.column - 1),
          ...lines.slice(start.line, end.line - 1),
          lines[end.line - 1].slice(0, end.column - 1)
        ].join('\n')
  return oneLine(text)
}

const oneLine = (text: string, max = 100) => {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

function survivorLines(report: MutationTestResult): string[] {
  const out: string[] = []
  for (const [file, result] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const undetected = result.mutants
      .filter(m => m.status === 'Survived' || m.status === 'NoCoverage')
      .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)
    if (undetected.length === 0) continue
    out.push(`${file} (${undetected.length})`)
    for (const m of undetected) {
      const where = `${file}:${m.location.start.line}:${m.location.start.column}`
      const status = m.status === 'NoCoverage' ? ' [no coverage]' : ''
      out.push(`  ${where} ${m.mutatorName}${status}: ${original(result.source, m)} → ${oneLine(m.replacement ?? '')}`)
    }
  }
  return out
}

const pct = (score: number | null) => (score === null ? 'n/a' : `${score.toFixed(2)} %`)

function table(files: Record<string, FileFigures>, all: FileFigures): string {
  const row = (name: string, f: FileFigures, met: string) =>
    `| ${name} | ${f.total} | ${f.killed} | ${f.timeout} | ${f.survived} | ${f.noCoverage} | ${f.compileErrors + f.runtimeErrors} | ${f.ignored} | ${pct(f.score)} | ${met} |`
  const met = (f: FileFigures) =>
    f.score === null ? '' : f.score >= TARGET ? 'yes' : `**no**: ${(TARGET - f.score).toFixed(2)} points short`
  return [
    `| file | mutants | killed | timeout | survived | no coverage | errors | ignored | score | ≥ ${TARGET} % |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...Object.entries(files).map(([name, f]) => row(`\`${name}\``, f, met(f))),
    row('all files', all, '')
  ].join('\n')
}

async function main(): Promise<void> {
  if (!existsSync(REPORT)) throw new Error('No Stryker report at reports/mutation/mutation.json: run `npm run mutation`.')
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as MutationTestResult
  const names = Object.keys(report.files).sort((a, b) => a.localeCompare(b))
  const files = Object.fromEntries(names.map(name => [name, figures(report.files[name].mutants)]))
  const all = figures(names.flatMap(name => report.files[name].mutants))

  // A run narrowed with `stryker run --mutate` says which listed modules it left out.
  const config = (await import(pathToFileURL(join(ROOT, 'stryker.config.js')).href)) as { MUTATED_MODULES: string[] }
  const notRun = config.MUTATED_MODULES.filter(file => !(file in report.files))

  const started = Number(process.env.MUTATION_STARTED_AT)
  const durationSeconds = Number.isFinite(started) && started > 0 ? Math.round(Date.now() / 1000 - started) : null
  const date = new Date().toISOString()
  writeFileSync(
    FIGURES,
    JSON.stringify({ node: process.version, date, durationSeconds, target: TARGET, files, allFiles: all, notRun }, null, 2) + '\n'
  )

  const minutes = durationSeconds === null ? 'not timed' : `${Math.floor(durationSeconds / 60)} min ${durationSeconds % 60} s`
  const block = [
    `Last run: ${date.slice(0, 10)}, Node.js ${process.version}, ${minutes} wall clock; raw figures in \`bench/mutation.json\`.`,
    '',
    table(files, all),
    ...(notRun.length > 0 ? ['', `Not mutated in this run: ${notRun.map(file => `\`${file}\``).join(', ')}.`] : [])
  ].join('\n')
  for (const doc of DOCS) {
    const text = readFileSync(doc, 'utf8')
    if (!text.includes('<!-- mutation:start -->')) throw new Error(`${basename(doc)} has no <!-- mutation:start --> block`)
    writeFileSync(doc, await formatMarkdown(replaceBlock(text, 'mutation', block), doc))
  }

  const survivors = survivorLines(report)
  mkdirSync(dirname(SURVIVORS), { recursive: true })
  writeFileSync(SURVIVORS, survivors.join('\n') + '\n')
  console.log(table(files, all))
  console.log(`\nDuration: ${minutes}. Surviving mutants: reports/mutation/survivors.txt`)
}

await main()
