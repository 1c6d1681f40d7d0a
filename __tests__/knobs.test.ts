// The emulator's switches are one table (emulator/knobs.ts): each says its default, its values,
// what it plays and its basis, either a documented fact with its source in docs/graph-facts.md or
// an assumption with why. DEFAULT_KNOBS is read from that table, and docs/emulator.md shows it as
// scripts/knobs-table.ts renders it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { DEFAULT_KNOBS, KNOBS } from '../emulator/knobs.js'
import { EMULATOR_DOC, withKnobTable } from '../scripts/knobs-table.js'
import { ROOT } from '../scripts/runner.js'
import { anchorsOf } from './helpers/markdown-anchors.js'

const factAnchors = anchorsOf(readFileSync(join(ROOT, 'docs', 'graph-facts.md'), 'utf8'))
const FACT = /^docs\/graph-facts\.md#([A-Za-z0-9_-]+)$/

/** What is wrong with a switch's basis, or nothing. */
function basisProblem(name: string, basis: unknown): string[] {
  const b = basis as { kind?: unknown; source?: unknown; why?: unknown } | undefined
  if (b?.kind === 'documented') {
    const anchor = typeof b.source === 'string' ? FACT.exec(b.source)?.[1] : undefined
    return anchor !== undefined && factAnchors.has(anchor)
      ? []
      : [`${name}: documented, but its source is no docs/graph-facts.md anchor`]
  }
  if (b?.kind === 'assumption')
    return typeof b.why === 'string' && b.why.trim().length >= 20 ? [] : [`${name}: an assumption without why`]
  return [`${name}: no basis`]
}

describe('the emulator switch table', () => {
  const table = KNOBS as Record<string, { default: unknown; values: unknown; basis?: unknown; meaning: unknown }>

  it('every switch says its basis: a documented fact with its source, or an assumption with why', () => {
    expect(Object.keys(DEFAULT_KNOBS).flatMap(name => basisProblem(name, table[name]?.basis))).toEqual([])
  })

  it('the check refuses a switch with no basis, a documented one without a source and an assumption without why', () => {
    expect(basisProblem('a', undefined)).toEqual(['a: no basis'])
    expect(basisProblem('b', { kind: 'documented', source: 'https://example.test/' })).toHaveLength(1)
    // Built so that the check of cited anchors (sources.test.ts) does not read it as a reference.
    expect(basisProblem('c', { kind: 'documented', source: `docs/graph-facts.md#${'no-such-fact'}` })).toHaveLength(1)
    expect(basisProblem('d', { kind: 'assumption', why: '' })).toHaveLength(1)
    expect(basisProblem('e', { kind: 'documented', source: 'docs/graph-facts.md#image-cap' })).toEqual([])
  })

  it('every switch says what it means', () => {
    expect(Object.entries(table).filter(([, spec]) => typeof spec.meaning !== 'string' || spec.meaning.trim() === '')).toEqual([])
  })

  it('DEFAULT_KNOBS is the table read for defaults, so no default is said twice', () => {
    expect(Object.keys(DEFAULT_KNOBS).sort()).toEqual(Object.keys(table).sort())
    for (const [name, spec] of Object.entries(table))
      expect({ name, value: (DEFAULT_KNOBS as unknown as Record<string, unknown>)[name] }).toEqual({ name, value: spec.default })
  })

  it('a switch whose values are listed has its default among them', () => {
    const listed = Object.entries(table).filter(([, spec]) => typeof spec.values === 'object' && spec.values !== null)
    expect(listed.length).toBeGreaterThan(15)
    for (const [name, spec] of listed)
      expect({ name, listed: Object.keys(spec.values as object).includes(String(spec.default)) }).toEqual({ name, listed: true })
  })

  it('docs/emulator.md shows the table as scripts/knobs-table.ts renders it (npx tsx scripts/knobs-table.ts)', async () => {
    const doc = readFileSync(EMULATOR_DOC, 'utf8')
    expect(await withKnobTable(doc)).toBe(doc)
  })
})
