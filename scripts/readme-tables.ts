// Writes the README's inputs and outputs tables from action.yml, so the two never disagree.
// `tsx scripts/readme-tables.ts` rewrites README.md; `--check` only exits 1 when it is out of date.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ROOT } from './runner.js'

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
}

const cell = (text: string): string => text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')

export function renderTables(actionYml: string): { inputs: string; outputs: string } {
  const action = parse(actionYml) as ActionYml
  const inputs = [
    '| input | required | default | description |',
    '|---|---|---|---|',
    ...Object.entries(action.inputs).map(
      ([name, i]) => `| \`${name}\` | ${i.required ? 'yes' : 'no'} | ${i.default !== undefined ? `\`${i.default}\`` : ''} | ${cell(i.description)} |`
    )
  ].join('\n')
  const outputs = [
    '| output | description |',
    '|---|---|',
    ...Object.entries(action.outputs).map(([name, o]) => `| \`${name}\` | ${cell(o.description)} |`)
  ].join('\n')
  return { inputs, outputs }
}

export function withTables(readme: string, tables: { inputs: string; outputs: string }): string {
  let text = readme
  for (const [name, table] of Object.entries(tables)) {
    const pattern = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`)
    if (!pattern.test(text)) throw new Error(`README.md has no <!-- ${name}:start --> ... <!-- ${name}:end --> block`)
    text = text.replace(pattern, (_m, open: string, close: string) => `${open}\n${table}\n${close}`)
  }
  return text
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)
if (isMain) {
  const readmePath = join(ROOT, 'README.md')
  const current = readFileSync(readmePath, 'utf8')
  const wanted = withTables(current, renderTables(readFileSync(join(ROOT, 'action.yml'), 'utf8')))
  if (process.argv.includes('--check')) {
    if (wanted !== current) {
      console.error('README.md tables differ from action.yml: run "npm run readme".')
      process.exit(1)
    }
  } else writeFileSync(readmePath, wanted)
}
