// The import rule of src/ (docs/development.md, "Code map"): the base is layered (core, then http,
// then graph), it never imports a capability, and the capabilities import the base and report/,
// not each other. Read from the import specifiers themselves, so a move that breaks the rule fails here.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, expect, it } from '@jest/globals'

const SRC = 'src'
const BASE = ['core', 'http', 'graph'] as const
const CAPABILITIES = ['preflight', 'publish', 'rollout', 'retention'] as const
/** Making room in a full tenant is the one retention decision the publish needs before its create. */
const ALLOWED = new Set(['publish -> retention'])

interface Import {
  from: string
  to: string
  typeOnly: boolean
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []
  )
}

/** The folder of a file under src/, or `top` for main, inputs, clouds, version and index. */
function area(file: string): string {
  const parts = relative(SRC, file).split(/[\\/]/)
  return parts.length > 1 ? parts[0] : 'top'
}

function imports(): Import[] {
  return files(SRC).flatMap(file =>
    [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)\.js'/gm)].map(m => ({
      from: file,
      to: normalize(join(dirname(file), `${m[2]}.ts`)),
      typeOnly: !!m[1]
    }))
  )
}

/** Why the import breaks the rule, or undefined. */
export function breaks(i: Import): string | undefined {
  const from = area(i.from)
  const to = area(i.to)
  if (from === to) return undefined
  const layer = (a: string) => BASE.indexOf(a as (typeof BASE)[number])
  if (layer(from) >= 0) {
    if (layer(to) >= 0) return layer(to) < layer(from) ? undefined : `the ${from} layer imports the ${to} layer above it`
    // The base may read the settings' types and the version, nothing of a capability or the report.
    if (to === 'top' && (i.typeOnly || i.to.endsWith('version.ts'))) return undefined
    return `the base (${from}) imports ${to}`
  }
  const capability = (a: string) => (CAPABILITIES as readonly string[]).includes(a)
  if (capability(from) && capability(to) && !ALLOWED.has(`${from} -> ${to}`)) return `${from} imports ${to}`
  if (from === 'report' && capability(to) && !i.typeOnly) return `report imports ${to} for more than a type`
  return undefined
}

describe('the layout of src/', () => {
  it('keeps the import rule', () => {
    const broken = imports()
      .map(i => ({ i, why: breaks(i) }))
      .filter(b => b.why)
      .map(b => `${relative(SRC, b.i.from)} -> ${relative(SRC, b.i.to)}: ${b.why}`)
    expect(broken).toEqual([])
  })

  it('reads the imports it judges', () => {
    const all = imports()
    expect(all.length).toBeGreaterThan(100)
    expect(all.some(i => i.from.endsWith(join('publish', 'publisher.ts')) && i.to.endsWith(join('retention', 'apply.ts')))).toBe(
      true
    )
  })

  it('refuses a base module that imports a capability, and a capability that imports another', () => {
    const at = (from: string, to: string, typeOnly = false): Import => ({
      from: join(SRC, from),
      to: join(SRC, to),
      typeOnly
    })
    expect(breaks(at('graph/images.ts', 'publish/wait.ts', true))).toBe('the base (graph) imports publish')
    expect(breaks(at('core/errors.ts', 'http/requester.ts'))).toBe('the core layer imports the http layer above it')
    expect(breaks(at('rollout/reprovision.ts', 'publish/wait.ts'))).toBe('rollout imports publish')
    expect(breaks(at('report/run-report.ts', 'preflight/source-checks.ts', true))).toBeUndefined()
    expect(breaks(at('report/summary.ts', 'rollout/waves.ts'))).toBe('report imports rollout for more than a type')
    expect(breaks(at('publish/publisher.ts', 'retention/apply.ts'))).toBeUndefined()
  })
})
