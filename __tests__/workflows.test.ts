// The workflows cannot run here, so their logic is run: the `uses: ./` job's inputs go to the
// bundle against the emulator started with the job's scenario, and its checks are applied.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { ROOT, RUN_CONTEXT, runAction } from '../scripts/runner.js'

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
const workflow = (name: string) => parse(readFileSync(join(ROOT, '.github', 'workflows', name), 'utf8')) as Workflow

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

describe('workflows', () => {
  it('use the current majors of the actions they call', () => {
    const current: Record<string, string> = {
      'actions/checkout': 'v7',
      'actions/setup-node': 'v7',
      'actions/upload-artifact': 'v7',
      'github/codeql-action/init': 'v4',
      'github/codeql-action/analyze': 'v4'
    }
    const files = readdirSync(join(ROOT, '.github', 'workflows'))
    expect(files.sort()).toEqual(['check-dist.yml', 'ci.yml', 'codeql.yml', 'release.yml'])
    for (const file of files)
      for (const job of Object.values(workflow(file).jobs))
        for (const uses of job.steps.map(step => step.uses).filter((u): u is string => !!u && u !== './')) {
          const [name, ref] = uses.split('@')
          expect({ file, name, ref }).toEqual({ file, name, ref: current[name] })
        }
  })

  it('test on Node 20 and on Node 24, the runtime the action declares', () => {
    expect(workflow('ci.yml').jobs.test.strategy?.matrix?.node).toEqual([20, 24])
    const dependabot = parse(readFileSync(join(ROOT, '.github', 'dependabot.yml'), 'utf8')) as {
      updates: { 'package-ecosystem': string }[]
    }
    expect(dependabot.updates.map(u => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm'])
  })

  it('ci.yml installs, lints, tests; check-dist.yml rebuilds and compares dist/', () => {
    const runs = workflow('ci.yml')
      .jobs.test.steps.map(s => s.run)
      .filter(Boolean)
    expect(runs).toEqual(['npm ci', 'npm run typecheck', 'npm run lint', 'npm run format:check', 'npm test'])
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
