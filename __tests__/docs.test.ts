import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { DEFAULTS } from '../src/inputs.js'
import { OUTPUT_NAMES } from '../src/outputs.js'
import { ACTION_VERSION } from '../src/version.js'
import { renderTables, withTables } from '../scripts/readme-tables.js'
import { ROOT } from '../scripts/runner.js'

const actionYml = readFileSync(join(ROOT, 'action.yml'), 'utf8')
const action = parse(actionYml) as {
  inputs: Record<string, { default?: string }>
  outputs: Record<string, unknown>
  runs: Record<string, string>
}

describe('README, action.yml and the code agree', () => {
  it('README tables are what action.yml and the error-code table generate', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    expect(await withTables(readme, renderTables(actionYml))).toBe(readme)
  })

  it('action.yml declares the outputs the action sets', () => {
    expect(Object.keys(action.outputs).sort()).toEqual([...OUTPUT_NAMES].sort())
  })

  it('the defaults in the code are the defaults in action.yml', () => {
    for (const [name, value] of Object.entries(DEFAULTS)) expect(action.inputs[name]?.default).toBe(value)
    const declared = Object.entries(action.inputs)
      .filter(([, i]) => i.default !== undefined)
      .map(([name]) => name)
    expect(declared.sort()).toEqual(Object.keys(DEFAULTS).sort())
  })

  it('runs the committed bundle on node24, and the User-Agent carries the package version', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(ACTION_VERSION).toBe(pkg.version)
  })
})
