import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { CLOUDS, type CloudName } from '../src/clouds.js'
import { DEFAULTS } from '../src/inputs.js'
import { OUTPUT_NAMES } from '../src/report/outputs.js'
import { ACTION_VERSION } from '../src/version.js'
import { renderTables, withTables } from '../scripts/readme-tables.js'
import { ROOT } from '../scripts/runner.js'

const actionYml = readFileSync(join(ROOT, 'action.yml'), 'utf8')
const action = parse(actionYml) as {
  name: string
  description: string
  author: string
  branding: { icon: string; color: string }
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

describe('SECURITY.md', () => {
  it('lists exactly the endpoints the action accepts for each cloud', () => {
    const security = readFileSync(join(ROOT, 'SECURITY.md'), 'utf8')
    const section = security.slice(
      security.indexOf('## Where requests go'),
      security.indexOf('\n## ', security.indexOf('## Where requests go'))
    )
    const rows = [...section.matchAll(/^\| `(\w+)`[^|]*\|([^\n]+)$/gm)].map(([, cloud, cells]) => ({
      cloud,
      hosts: [...cells!.matchAll(/`(https:\/\/[^`]+)`/g)].map(m => m[1])
    }))
    // The header row names no host.
    expect(rows.filter(row => row.hosts.length > 0)).toEqual(
      (Object.keys(CLOUDS) as CloudName[]).map(cloud => ({
        cloud,
        hosts: [CLOUDS[cloud].authorityHost, CLOUDS[cloud].graphEndpoint, CLOUDS[cloud].armEndpoint]
      }))
    )
  })
})

describe('the Marketplace listing', () => {
  it('has a name, an author and a description under 125 characters, as the Marketplace requires', () => {
    expect(action.name.length).toBeGreaterThan(0)
    expect(action.name.length).toBeLessThanOrEqual(100)
    expect(action.author).toBe('cloudpc-image-action')
    expect(action.description.length).toBeLessThan(125)
  })

  it('uses a branding colour and a Feather icon the Marketplace offers', () => {
    expect(['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark']).toContain(action.branding.color)
    // A few of the Feather icons GitHub lists for action branding; monitor stands for a Cloud PC.
    expect(['monitor', 'cloud', 'upload-cloud', 'package', 'server']).toContain(action.branding.icon)
  })

  it('ships a licence, a changelog and a security policy, and the package is released', () => {
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/)
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string }
    expect(pkg.license).toBe('MIT')
    expect(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8')).toContain(`## [${pkg.version}] - `)
    expect(readFileSync(join(ROOT, 'SECURITY.md'), 'utf8')).toContain('Reporting a vulnerability')
    expect(pkg.version).toMatch(/^[1-9]\d*\.\d+\.\d+$/)
  })
})
