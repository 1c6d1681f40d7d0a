// stryker.config.js lists the modules mutation testing measures. A listed path that does not exist
// (a module moved or renamed) must stop the run with its name, not drop the module without a word.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from '@jest/globals'
import { ROOT } from '../scripts/runner.js'

interface StrykerConfig {
  MUTATED_MODULES: string[]
  modulesToMutate: (modules: string[], options?: { root?: string; only?: string }) => string[]
  default: { mutate: string[] }
}

const load = async (dir: string): Promise<StrykerConfig> =>
  (await import(pathToFileURL(join(dir, 'stryker.config.js')).href)) as StrykerConfig

/** The decisions added since the list was last extended: the roll-out, the preflight, image health, the outputs. */
const NEWER_DECISIONS = [
  'src/rollout/wave-plan.ts',
  'src/rollout/rebuild-observation.ts',
  'src/preflight/source-checks.ts',
  'src/publish/image-health.ts',
  'src/report/outputs.ts'
]

describe('the modules mutation testing measures', () => {
  it('the config module throws, naming the path, when a listed module does not exist', async () => {
    const { MUTATED_MODULES } = await load(ROOT)
    // A copy of the config in a project that holds every listed module but one.
    const dir = mkdtempSync(join(tmpdir(), 'stryker-config-'))
    try {
      for (const file of ['stryker.config.js', 'jest.config.js']) copyFileSync(join(ROOT, file), join(dir, file))
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
      const gone = MUTATED_MODULES[Math.floor(MUTATED_MODULES.length / 2)]
      for (const file of MUTATED_MODULES.filter(f => f !== gone)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true })
        writeFileSync(join(dir, file), '')
      }
      await expect(load(dir)).rejects.toThrow(`stryker.config.js lists modules that do not exist: ${gone}.`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('names every listed path that does not exist', async () => {
    const { modulesToMutate } = await load(ROOT)
    expect(() => modulesToMutate(['src/inputs.ts', 'src/no-such.ts', 'src/gone/too.ts'])).toThrow(
      'do not exist: src/no-such.ts, src/gone/too.ts.'
    )
  })

  it('every listed module exists, and a whole run mutates them all', async () => {
    const { MUTATED_MODULES, modulesToMutate } = await load(ROOT)
    expect(modulesToMutate(MUTATED_MODULES)).toEqual(MUTATED_MODULES)
    expect(new Set(MUTATED_MODULES).size).toBe(MUTATED_MODULES.length)
  })

  it('lists the newer decisions: the wave plan, rebuild observation, source checks, image health, outputs', async () => {
    const { MUTATED_MODULES } = await load(ROOT)
    expect(MUTATED_MODULES).toEqual(expect.arrayContaining(NEWER_DECISIONS))
  })

  it('MUTATION_MODULES narrows a run to listed modules, and refuses a module not listed', async () => {
    const { MUTATED_MODULES, modulesToMutate } = await load(ROOT)
    expect(modulesToMutate(MUTATED_MODULES, { only: 'src/rollout/wave-plan.ts, src/report/outputs.ts' })).toEqual([
      'src/rollout/wave-plan.ts',
      'src/report/outputs.ts'
    ])
    expect(() => modulesToMutate(MUTATED_MODULES, { only: 'src/rollout/wave-plan.ts,src/waves.ts' })).toThrow(
      'MUTATION_MODULES names modules that stryker.config.js does not list: src/waves.ts.'
    )
  })
})
