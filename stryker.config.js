// Mutation testing of the modules that decide what the action does (`npm run mutation`).
import { existsSync } from 'node:fs'

/**
 * The modules to mutate: the one place to edit. A listed file that does not exist (yet) is skipped,
 * so a module can be listed before it lands or after it is renamed without breaking the run.
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
  'src/retention/decide.ts'
]

/**
 * MUTATION_FULL=1 also mutates string literals and module-level constants and runs the fault suite.
 * That takes about three times as long (hours on two cores), so the default run leaves them out:
 * - string literals: most are messages, and an emptied message no test notices says little;
 * - static mutants (tables and constants evaluated once, on import): each needs every test;
 * - __tests__/faults.test.ts: 149 runs of the same flows with injected faults, about a third of
 *   the time of a mutant that survives; `npm test` still runs it.
 */
const FULL = process.env.MUTATION_FULL === '1'

/**
 * Test files left out of the run: they cannot observe a mutant in src/, or cannot run in a sandbox.
 * - screenshot: needs Chromium (and installs it when missing).
 * - bundle, workflows: run the committed dist/index.js in a child process, never the mutated src/.
 * - emulator: tests the Graph emulator only; it imports nothing from src/.
 */
const EXCLUDED_TESTS = ['screenshot', 'bundle', 'workflows', 'emulator', ...(FULL ? [] : ['faults'])]

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: MUTATED_MODULES.filter(file => existsSync(file)),
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
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  // Target 85 % per file (see BENCHMARKS.md); reported, not enforced, so the report is always written.
  thresholds: { high: 85, low: 70, break: null }
}
