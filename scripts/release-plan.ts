// What `npm run release` checks before it tags: pure, so every refusal is tested without git.

export interface ReleaseState {
  /** package.json's version. */
  version: string
  changelog: string
  tags: string[]
  /** No uncommitted change in the working tree. */
  clean: boolean
  /** `npm run build` left dist/ as committed. */
  distCurrent: boolean
}

export type ReleasePlan = { ok: true; tag: string; major: string; notes: string } | { ok: false; errors: string[] }

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/

/** The CHANGELOG.md section of `version` (Keep a Changelog: `## [1.0.0] - 2026-12-01`), without its heading. */
export function changelogSection(changelog: string, version: string): string | undefined {
  const lines = changelog.split('\n')
  const start = lines.findIndex(line =>
    new RegExp(`^## \\[${version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}\\s*$`).test(line)
  )
  if (start < 0) return undefined
  const end = lines.findIndex((line, i) => i > start && (line.startsWith('## ') || /^\[[^\]]+\]: /.test(line)))
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .join('\n')
    .trim()
}

export function planRelease(state: ReleaseState): ReleasePlan {
  const errors: string[] = []
  const semver = SEMVER.exec(state.version)
  if (!semver) errors.push(`package.json's version must be X.Y.Z; it is "${state.version}".`)
  const tag = `v${state.version}`
  if (!state.clean) errors.push('The working tree has uncommitted changes: commit or stash them first.')
  if (!state.distCurrent) errors.push("dist/ is not what src/ builds to: run 'npm run build' and commit dist/.")
  if (state.tags.includes(tag)) errors.push(`The tag ${tag} exists already: raise the version in package.json.`)
  const notes = changelogSection(state.changelog, state.version)
  if (!notes) errors.push(`CHANGELOG.md has no section "## [${state.version}] - YYYY-MM-DD" with the changes of this release.`)
  if (errors.length > 0 || !semver || !notes) return { ok: false, errors }
  return { ok: true, tag, major: `v${semver[1]}`, notes }
}
