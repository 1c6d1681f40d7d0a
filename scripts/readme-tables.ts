// Writes the README's inputs and outputs tables from action.yml, and its error-code table from the
// action's own table, so the README never disagrees with what the action does.
// `tsx scripts/readme-tables.ts` rewrites README.md; `--check` only exits 1 when it is out of date.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ERROR_CODES, explainErrorCode, type RetryAdvice } from '../src/publish/error-codes.js'
import { formatReadme, README, replaceBlock } from './readme-blocks.js'
import { ROOT } from './runner.js'

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
}

const cell = (text: string): string => text.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')

const ADVICE: Record<RetryAdvice, string> = {
  retry: 'yes, up to `maxUploadRetries`',
  afterFix: 'after you fix it (retried once when the image is adopted by a later run)',
  no: 'no: publish a new version',
  once: 'once'
}

function renderErrorCodes(): string {
  const unknown = explainErrorCode('')
  return [
    '| `errorCode` | what it means | retried? | what to do |',
    '|---|---|---|---|',
    ...ERROR_CODES.map(c => `| \`${c.code}\` | ${cell(c.meaning)} | ${ADVICE[c.retry]} | ${cell(c.remedy)} |`),
    `| empty, \`unknownFutureValue\` or a code not listed | ${cell(unknown.meaning)} | ${ADVICE[unknown.retry]} | ${cell(unknown.remedy)} |`
  ].join('\n')
}

export function renderTables(actionYml: string): { inputs: string; outputs: string; 'error-codes': string } {
  const action = parse(actionYml) as ActionYml
  const inputs = [
    '| input | required | default | description |',
    '|---|---|---|---|',
    ...Object.entries(action.inputs).map(
      ([name, i]) =>
        `| \`${name}\` | ${i.required ? 'yes' : 'no'} | ${i.default !== undefined ? `\`${i.default}\`` : ''} | ${cell(i.description)} |`
    )
  ].join('\n')
  const outputs = [
    '| output | description |',
    '|---|---|',
    ...Object.entries(action.outputs).map(([name, o]) => `| \`${name}\` | ${cell(o.description)} |`)
  ].join('\n')
  return { inputs, outputs, 'error-codes': renderErrorCodes() }
}

/** The README with every generated block filled in, as Prettier formats it. */
export async function withTables(readme: string, tables: Record<string, string>): Promise<string> {
  return formatReadme(Object.entries(tables).reduce((text, [name, table]) => replaceBlock(text, name, table), readme))
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)
if (isMain) {
  const current = readFileSync(README, 'utf8')
  const wanted = await withTables(current, renderTables(readFileSync(join(ROOT, 'action.yml'), 'utf8')))
  if (process.argv.includes('--check')) {
    if (wanted !== current) {
      console.error('README.md tables differ from action.yml: run "npm run readme".')
      process.exit(1)
    }
  } else writeFileSync(README, wanted)
}
