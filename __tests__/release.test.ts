// What `npm run release` refuses, and what it tags.

import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { changelogSection, planRelease } from '../scripts/release-plan.js'
import { ROOT } from '../scripts/runner.js'

const CHANGELOG = `# Changelog\n\n## [Unreleased]\n\n## [1.2.0] - 2026-12-24\n\n### Fixed\n\n- A fix.\n\n## [1.1.0] - 2026-12-10\n\n- Older.\n\n[1.2.0]: https://example.invalid\n`
const ready = { version: '1.2.0', changelog: CHANGELOG, tags: ['v1.0.0', 'v1.1.0', 'v1'], clean: true, distCurrent: true }

describe('release', () => {
  it('tags vX.Y.Z, moves vX and takes the notes from the version’s CHANGELOG section', () => {
    expect(planRelease(ready)).toEqual({ ok: true, tag: 'v1.2.0', major: 'v1', notes: '### Fixed\n\n- A fix.' })
  })

  it.each([
    [{ clean: false }, /uncommitted changes/],
    [{ distCurrent: false }, /dist\/ is not what src\/ builds to/],
    [{ tags: ['v1.2.0'] }, /The tag v1\.2\.0 exists already/],
    [{ version: '1.3.0' }, /CHANGELOG\.md has no section "## \[1\.3\.0\] - YYYY-MM-DD"/],
    [{ version: '1.2' }, /must be X\.Y\.Z; it is "1\.2"/]
  ])('refuses %j', (change, message) => {
    const plan = planRelease({ ...ready, ...change })
    expect(plan.ok).toBe(false)
    if (!plan.ok) expect(plan.errors).toContainEqual(expect.stringMatching(message))
  })

  it('reads a section up to the next heading or the link list', () => {
    expect(changelogSection(CHANGELOG, '1.1.0')).toBe('- Older.')
    expect(changelogSection(CHANGELOG, '1.2')).toBeUndefined()
  })

  it('the committed version can be released: CHANGELOG.md has its section', () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string }
    expect(changelogSection(readFileSync(`${ROOT}/CHANGELOG.md`, 'utf8'), version)).toMatch(/^The first release\./)
  })
})
