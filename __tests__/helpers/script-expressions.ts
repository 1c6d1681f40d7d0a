// The runner pastes a `${{ … }}` expression into a script before the shell (or github-script's
// JavaScript) reads it, so an output or input holding shell syntax would run as code. Values reach
// scripts through `env:` instead; this finds the places where one does not.

export interface ScriptExpression {
  /** Where the script sits, as a path of keys and list indexes: `jobs.a.steps[2].run`. */
  at: string
  script: string
}

const EXPRESSION = '${{'
const GITHUB_SCRIPT = /^actions\/github-script@/i

/** Every `run:` of a step, and every `script:` of actions/github-script, that holds `${{`, in a workflow or any part of one. */
export function expressionsInScripts(value: unknown, at = ''): ScriptExpression[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => expressionsInScripts(item, `${at}[${index}]`))
  if (value === null || typeof value !== 'object') return []
  const record = value as Record<string, unknown>
  const found: ScriptExpression[] = []
  const key = (name: string) => (at === '' ? name : `${at}.${name}`)
  if (typeof record.run === 'string' && record.run.includes(EXPRESSION)) found.push({ at: key('run'), script: record.run })
  const given = record.with
  if (typeof record.uses === 'string' && GITHUB_SCRIPT.test(record.uses) && given !== null && typeof given === 'object') {
    const script = (given as Record<string, unknown>).script
    if (typeof script === 'string' && script.includes(EXPRESSION)) found.push({ at: key('with.script'), script })
  }
  for (const [name, child] of Object.entries(record)) found.push(...expressionsInScripts(child, key(name)))
  return found
}
