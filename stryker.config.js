// Mutation testing of the modules that decide what the action does (`npm run mutation`).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BROWSER_TESTS } from './jest.config.js'

const ROOT = fileURLToPath(new URL('.', import.meta.url))

/**
 * The modules to mutate: the one place to edit. Every path must exist: a module that moved or was
 * renamed would otherwise drop out of the run without anyone noticing (see modulesToMutate).
 */
export const MUTATED_MODULES = [
  'src/publish/wait.ts',
  'src/http/retry-policy.ts',
  'src/publish/image-plan.ts',
  'src/inputs.ts',
  'src/publish/error-codes.ts',
  'src/http/rate-gate.ts',
  'src/http/credentials.ts',
  'src/graph/images.ts',
  'src/http/requester.ts',
  'src/http/settle-write.ts',
  'src/graph/answers.ts',
  'src/retention/decide.ts',
  'src/rollout/wave-plan.ts',
  'src/rollout/rebuild-observation.ts',
  'src/preflight/source-checks.ts',
  'src/publish/image-health.ts',
  'src/report/outputs.ts'
]

/**
 * The modules a run mutates: all of `modules`, or the ones `only` names (comma-separated; from
 * MUTATION_MODULES, to measure a few modules without the hours of a whole run). Throws, naming the
 * path, when a listed module does not exist under `root`, or when `only` names one not listed.
 */
export function modulesToMutate(modules, { root = ROOT, only = '' } = {}) {
  const missing = modules.filter(file => !existsSync(join(root, file)))
  if (missing.length > 0)
    throw new Error(
      `stryker.config.js lists modules that do not exist: ${missing.join(', ')}. Fix their paths in MUTATED_MODULES (see docs/development.md, "Code map") or remove them.`
    )
  const picked = only
    .split(',')
    .map(file => file.trim())
    .filter(file => file !== '')
  const unlisted = picked.filter(file => !modules.includes(file))
  if (unlisted.length > 0)
    throw new Error(
      `MUTATION_MODULES names modules that stryker.config.js does not list: ${unlisted.join(', ')}. Expected a comma-separated list of paths from MUTATED_MODULES.`
    )
  return picked.length > 0 ? picked : [...modules]
}

const mutate = modulesToMutate(MUTATED_MODULES, { only: process.env.MUTATION_MODULES })
/** A run of some of the modules keeps its own incremental file, so that the whole run's stays whole. */
const NARROWED = mutate.length < MUTATED_MODULES.length

/**
 * MUTATION_FULL=1 also mutates string literals and module-level constants and runs the fault suite.
 * That takes about three times as long (hours on two cores), so the default run leaves them out:
 * - string literals: most are messages, and an emptied message no test notices says little;
 * - static mutants (tables and constants evaluated once, on import): each needs every test;
 * - __tests__/faults.test.ts: 132 runs of the same flows with injected faults (and 87 bad inputs)
 *   that reach every decision module, so each surviving mutant would run them all on top of the flow
 *   tests that reach it; `npm test` still runs it.
 */
const FULL = process.env.MUTATION_FULL === '1'

/**
 * Test files left out of the run: they cannot observe a mutant in src/, or cannot run in a sandbox.
 * - the browser tests (BROWSER_TESTS in jest.config.js): they need Chromium, as `npm test` does not.
 * - bundle, workflows: run the committed dist/index.js in a child process, never the mutated src/.
 * - emulator: tests the Graph emulator only; it imports nothing from src/.
 */
const EXCLUDED_TESTS = [...BROWSER_TESTS, 'bundle', 'workflows', 'emulator', ...(FULL ? [] : ['faults'])]

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate,
  testRunner: 'jest',
  // The suites are ES modules compiled by ts-jest: jest needs Node's VM modules in the runner process.
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: {
    configFile: 'jest.config.js',
    config: {
      testPathIgnorePatterns: ['/node_modules/', ...EXCLUDED_TESTS.map(name => `/__tests__/${name}\\.test\\.ts$`)],
      // A mutant run stops at its first failing test, fastest test files first (see scripts/stryker/).
      testEnvironment: './scripts/stryker/jest-environment.cjs',
      runner: './scripts/stryker/jest-runner.cjs',
      testSequencer: './scripts/stryker/jest-sequencer.cjs'
    },
    // Only the test files that import the mutated module (directly or not) run for its mutants.
    enableFindRelatedTests: true
  },
  // Coverage per test: each mutant runs only the tests that reach its code.
  coverageAnalysis: 'perTest',
  mutator: { excludedMutations: FULL ? [] : ['StringLiteral'] },
  ignoreStatic: !FULL,
  // Two cores, two test runners.
  concurrency: 2,
  // Jest's ESM runtime keeps each run's modules alive: a fresh runner process every 50 mutants
  // keeps its memory bounded.
  maxTestRunnerReuse: 50,
  // On top of 1.5 times the covering tests' own time: slack for a busy machine.
  timeoutMS: 5000,
  dryRunTimeoutMinutes: 10,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // A rerun reuses the results of mutants whose code and covering tests did not change.
  incremental: true,
  incrementalFile: NARROWED ? 'reports/mutation/stryker-incremental-some.json' : 'reports/mutation/stryker-incremental.json',
  // Target 85 % per file (see BENCHMARKS.md); reported, not enforced, so the report is always written.
  thresholds: { high: 85, low: 70, break: null }
}
