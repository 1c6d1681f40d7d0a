// The workflows cannot run here, so their logic is run: the `uses: ./` job's inputs go to the
// bundle against the emulator started with the job's scenario, and its checks are applied. Every
// action they call but ./ is pinned by commit SHA, and no script pastes an expression.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { ROOT, RUN_CONTEXT, runAction } from '../scripts/runner.js'
import { actionUses, isLocal, majorOf, pinOf, pinProblem } from './helpers/action-pins.js'
import { expressionsInScripts } from './helpers/script-expressions.js'

interface Step {
  id?: string
  uses?: string
  run?: string
  with?: Record<string, string | number>
  env?: Record<string, string>
}
interface Workflow {
  jobs: Record<string, { steps: Step[]; strategy?: { matrix?: Record<string, unknown> } }>
}
const text = (name: string) => readFileSync(join(ROOT, '.github', 'workflows', name), 'utf8')
const workflow = (name: string) => parse(text(name)) as Workflow
const files = readdirSync(join(ROOT, '.github', 'workflows'))

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

describe('workflows', () => {
  it('pin every action but ./ by a full commit SHA, with a release of its current major in a comment', () => {
    const current: Record<string, string> = {
      'actions/checkout': 'v7',
      'actions/setup-node': 'v7',
      'actions/upload-artifact': 'v7',
      'github/codeql-action/init': 'v4',
      'github/codeql-action/analyze': 'v4'
    }
    expect(files.sort()).toEqual(['check-dist.yml', 'ci.yml', 'codeql.yml', 'release.yml'])
    const shas = new Map<string, Set<string>>()
    for (const file of files) {
      const uses = actionUses(text(file))
      // Every step's uses: is read, the comments with it.
      const steps = Object.values(workflow(file).jobs).flatMap(job => job.steps.map(step => step.uses).filter(Boolean))
      expect(uses.map(u => u.uses)).toEqual(steps)
      for (const use of uses.filter(u => !isLocal(u))) {
        const name = use.uses.split('@')[0]!
        expect({ file, name, problem: pinProblem(use), major: majorOf(use) }).toEqual({
          file,
          name,
          problem: undefined,
          major: current[name]
        })
        const { repo, sha } = pinOf(use)!
        shas.set(repo, (shas.get(repo) ?? new Set()).add(sha))
      }
    }
    // One commit per repository across the workflows (codeql's init and analyze included), so an update moves all.
    expect([...shas.keys()].sort()).toEqual([
      'actions/checkout',
      'actions/setup-node',
      'actions/upload-artifact',
      'github/codeql-action'
    ])
    for (const [repo, commits] of shas) expect({ repo, commits: commits.size }).toEqual({ repo, commits: 1 })
  })

  it('the pin check refuses a tag, a short SHA and a pin without its release, and lets ./ be', () => {
    const sha = '3d3c42e5aac5ba805825da76410c181273ba90b1'
    const problems = actionUses(
      [
        'steps:',
        '  - uses: actions/checkout@v7',
        `  - uses: actions/checkout@${sha.slice(0, 7)} # v7.0.1`,
        `  - uses: actions/checkout@${sha}`,
        `  - uses: actions/checkout@${sha} # v7`,
        `  - uses: github/codeql-action/init@${sha.toUpperCase()} # v4.36.2`,
        '  - uses: ./',
        `  - uses: actions/checkout@${sha} # v7.0.1`,
        `  - uses: github/codeql-action/init@${sha} # v4.36.2`
      ].join('\n')
    ).map(pinProblem)
    expect(problems.map(p => p !== undefined)).toEqual([true, true, true, true, true, false, false, false])
    expect(problems[0]).toBe('actions/checkout@v7 is not pinned by a full 40-character commit SHA')
    expect(problems[2]).toBe(`actions/checkout@${sha} has no "# vX.Y.Z" comment naming its release`)
  })

  it('pass outputs and inputs to scripts through env:, never as ${{ }} inside run:', () => {
    for (const file of files) expect({ file, found: expressionsInScripts(workflow(file)) }).toEqual({ file, found: [] })
  })

  it('test on Node 20 and on Node 24, the runtime the action declares', () => {
    expect(workflow('ci.yml').jobs.test.strategy?.matrix?.node).toEqual([20, 24])
    const dependabot = parse(readFileSync(join(ROOT, '.github', 'dependabot.yml'), 'utf8')) as {
      updates: { 'package-ecosystem': string }[]
    }
    expect(dependabot.updates.map(u => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm'])
  })

  it('ci.yml installs, lints, tests, then the browser test with Chromium; check-dist.yml rebuilds and compares dist/', () => {
    const runs = workflow('ci.yml')
      .jobs.test.steps.map(s => s.run)
      .filter(Boolean)
    expect(runs).toEqual([
      'npm ci',
      'npm run typecheck',
      'npm run lint',
      'npm run format:check',
      'npm test',
      'npm run browser',
      'npm run test:browser'
    ])
    const dist = workflow('check-dist.yml').jobs['check-dist'].steps.map(s => s.run ?? '')
    expect(dist).toContain('npm run build')
    expect(dist.join('\n')).toContain('git status --porcelain -- dist')
  })

  it('the uses: ./ job passes its own checks when its steps run against the emulator', async () => {
    const steps = workflow('ci.yml').jobs.action.steps
    const start = steps.find(s => s.run?.includes('npm run emulator'))!
    const configPath = /--config (\S+)/.exec(start.run!)![1]
    emulator = await startEmulator(JSON.parse(readFileSync(join(ROOT, configPath), 'utf8')) as EmulatorOptions)
    const step = steps.find(s => s.uses === './')!
    const inputs = Object.fromEntries(
      Object.entries(step.with!).map(([name, value]) => [
        name,
        String(value).replace('http://127.0.0.1:8080', emulator!.url).replace('http://127.0.0.1:8081', emulator!.armUrl)
      ])
    )
    expect(start.run).toContain('--arm-port 8081')
    const result = await runAction({ inputs, env: RUN_CONTEXT })
    expect(result.code).toBe(0)
    // The source image was checked against the emulator's ARM, not skipped.
    expect(emulator.requests.filter(r => r.route === 'arm.images.get').map(r => r.status)).toEqual([200])
    // The check step compares env values built from the outputs with what it expects.
    const check = steps[steps.length - 1]
    const expectations = [...check.run!.matchAll(/test "\$(\w+)" = (\S+)/g)].map(([, variable, value]) => [variable, value])
    expect(expectations.length).toBe(3)
    for (const [variable, value] of expectations) {
      const output = /steps\.image\.outputs\.(\w+)/.exec(check.env![variable])![1]
      expect(result.outputs[output]).toBe(value)
    }
  })
})
