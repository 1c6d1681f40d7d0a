// Generated parts of README.md sit between <!-- name:start --> and <!-- name:end --> markers.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './runner.js'

export const README = join(ROOT, 'README.md')

export function replaceBlock(text: string, name: string, content: string): string {
  const pattern = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`)
  if (!pattern.test(text)) throw new Error(`README.md has no <!-- ${name}:start --> ... <!-- ${name}:end --> block`)
  return text.replace(pattern, (_m, open: string, close: string) => `${open}\n${content}\n${close}`)
}

export function writeReadmeBlock(name: string, content: string): void {
  writeFileSync(README, replaceBlock(readFileSync(README, 'utf8'), name, content))
}
