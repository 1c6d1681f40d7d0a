// Generated parts of README.md sit between <!-- name:start --> and <!-- name:end --> markers. The
// result goes through Prettier, so generating and formatting agree.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as prettier from 'prettier'
import { ROOT } from './runner.js'

export const README = join(ROOT, 'README.md')

export function replaceBlock(text: string, name: string, content: string, file = 'README.md'): string {
  const pattern = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`)
  if (!pattern.test(text)) throw new Error(`${file} has no <!-- ${name}:start --> ... <!-- ${name}:end --> block`)
  return text.replace(pattern, (_m, open: string, close: string) => `${open}\n${content}\n${close}`)
}

/** Formats Markdown as `npm run format` would, so generated files pass the format check. */
export async function formatMarkdown(text: string, filepath: string): Promise<string> {
  const options = (await prettier.resolveConfig(filepath)) ?? {}
  return prettier.format(text, { ...options, filepath })
}

export const formatReadme = (text: string): Promise<string> => formatMarkdown(text, README)

/** Replaces the block `name` of a Markdown file, formatted. */
export async function writeBlock(file: string, name: string, content: string): Promise<void> {
  writeFileSync(file, await formatMarkdown(replaceBlock(readFileSync(file, 'utf8'), name, content, file), file))
}

export const writeReadmeBlock = (name: string, content: string): Promise<void> => writeBlock(README, name, content)
