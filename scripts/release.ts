// npm run release [-- --push] [-- --notes FILE] — tags package.json's version as vX.Y.Z and moves
// the major tag vX to the same commit, so `@v1` users get it. It refuses to tag anything other than
// what users would run: a clean tree whose dist/ is what src/ builds to, with a CHANGELOG section.
// Without --push it only tags locally; the release workflow pushes.

import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { planRelease } from './release-plan.js'
import { ROOT } from './runner.js'

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim()
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : undefined
}

const clean = git('status', '--porcelain') === ''
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
const plan = planRelease({
  version: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
  changelog: readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'),
  tags: git('tag', '--list').split('\n'),
  clean,
  distCurrent: git('status', '--porcelain', '--', 'dist') === ''
})
if (!plan.ok) {
  for (const error of plan.errors) console.error(`release: ${error}`)
  process.exit(1)
}
git('tag', '-a', plan.tag, '-m', plan.tag)
git('tag', '-f', '-a', plan.major, '-m', `${plan.major} = ${plan.tag}`)
console.log(`Tagged ${plan.tag} and moved ${plan.major} to ${git('rev-parse', '--short', 'HEAD')}.`)
const notes = arg('notes')
if (notes) writeFileSync(notes, `${plan.notes}\n`)
if (process.argv.includes('--push')) {
  git('push', 'origin', `refs/tags/${plan.tag}`)
  git('push', '--force', 'origin', `refs/tags/${plan.major}`)
  console.log(`Pushed ${plan.tag} and ${plan.major}.`)
}
