// Writes the table of the emulator's switches in docs/emulator.md from emulator/knobs.ts, so the
// page never disagrees with the defaults the emulator runs with.
// `npm run emulator:switches` rewrites docs/emulator.md; `--check` only exits 1 when it is out of date.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KNOBS, type KnobBasis } from '../emulator/knobs.js'
import { formatMarkdown, replaceBlock } from './readme-blocks.js'
import { ROOT } from './runner.js'

export const EMULATOR_DOC = join(ROOT, 'docs', 'emulator.md')
const BLOCK = 'knobs'

const cell = (text: string): string => text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')

/** A value as it is written in TypeScript, in code font. */
function literal(value: unknown): string {
  const write = (v: unknown): string => {
    if (typeof v === 'string') return `'${v}'`
    if (v !== null && typeof v === 'object')
      return `{ ${Object.entries(v)
        .map(([k, inner]) => `${k}: ${write(inner)}`)
        .join(', ')} }`
    return String(v)
  }
  return `\`${write(value)}\``
}

/** A key of a values list: numbers and booleans bare, strings quoted, as the type spells them. */
const valueKey = (key: string): string => (/^(\d+|true|false)$/.test(key) ? `\`${key}\`` : `\`'${key}'\``)

function values(spec: (typeof KNOBS)[keyof typeof KNOBS]): string {
  if (typeof spec.values === 'string') return cell(spec.values)
  return Object.entries(spec.values as Record<string, string>)
    .map(([key, what]) => `${valueKey(key)}: ${cell(what)}`)
    .join('; ')
}

/** The anchor reference as a link from docs/, where the page sits beside docs/graph-facts.md. */
const factLink = (source: string): string => `[${source.slice(source.indexOf('#') + 1)}](${source.replace(/^docs\//, '')})`

function basis(b: KnobBasis): string {
  if (b.kind === 'documented') return `documented: ${factLink(b.source)}`
  // A fact the reason cites becomes a link too.
  return `assumption: ${cell(b.why).replace(/docs\/graph-facts\.md#[A-Za-z0-9_-]+/g, factLink)}`
}

export function renderKnobTable(): string {
  return [
    '| switch | default | values | basis | meaning |',
    '|---|---|---|---|---|',
    ...Object.entries(KNOBS).map(
      ([name, spec]) =>
        `| \`${name}\` | ${literal(spec.default)} | ${values(spec)} | ${basis(spec.basis)} | ${cell(spec.meaning)} |`
    )
  ].join('\n')
}

/** The page with the table filled in, as Prettier formats it. */
export async function withKnobTable(doc: string): Promise<string> {
  return formatMarkdown(replaceBlock(doc, BLOCK, renderKnobTable(), 'docs/emulator.md'), EMULATOR_DOC)
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)
if (isMain) {
  const doc = readFileSync(EMULATOR_DOC, 'utf8')
  const next = await withKnobTable(doc)
  if (process.argv.includes('--check')) {
    if (next !== doc) {
      console.error('docs/emulator.md is out of date: run npm run emulator:switches')
      process.exit(1)
    }
  } else writeFileSync(EMULATOR_DOC, next)
}
