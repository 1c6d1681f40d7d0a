// A tag can be moved to other code after review; a full commit SHA cannot. Every action but the
// repository's own (`./`) is pinned by SHA, with the release it is in a comment on the same line
// (the form Dependabot keeps current): `uses: actions/checkout@<40 hex> # v7.0.1`.
import { isScalar, parseDocument, visit } from 'yaml'

export interface ActionUse {
  /** The `uses:` value as written: `owner/repo[/path]@ref` or `./`. */
  uses: string
  /** The comment on the line of the `uses:`, trimmed. */
  comment: string | undefined
}

const PINNED = /^([\w.-]+\/[\w.-]+)(?:\/[\w./-]+)?@([0-9a-f]{40})$/
const RELEASE = /^v\d+\.\d+\.\d+$/

/** Every `uses:` of a YAML text (steps and reusable-workflow jobs alike), with the comment on its line. */
export function actionUses(yamlText: string): ActionUse[] {
  const found: ActionUse[] = []
  visit(parseDocument(yamlText), {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === 'uses' && isScalar(pair.value))
        found.push({ uses: String(pair.value.value), comment: pair.value.comment?.trim() })
    }
  })
  return found
}

export const isLocal = (use: ActionUse): boolean => use.uses.startsWith('./')

/** The repository (`owner/repo`) and commit of a pinned `uses:`, undefined when it is not pinned by a full SHA. */
export function pinOf(use: ActionUse): { repo: string; sha: string } | undefined {
  const match = PINNED.exec(use.uses)
  return match ? { repo: match[1]!.toLowerCase(), sha: match[2]! } : undefined
}

/** What keeps a `uses:` from being pinned, or undefined when it is (or is the local action). */
export function pinProblem(use: ActionUse): string | undefined {
  if (isLocal(use)) return undefined
  if (!pinOf(use)) return `${use.uses} is not pinned by a full 40-character commit SHA`
  if (!use.comment || !RELEASE.test(use.comment)) return `${use.uses} has no "# vX.Y.Z" comment naming its release`
  return undefined
}

/** The major of the release in a pin's comment: `v7` for `# v7.0.1`. */
export const majorOf = (use: ActionUse): string | undefined => use.comment?.split('.')[0]
