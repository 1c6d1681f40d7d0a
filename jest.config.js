import { availableParallelism } from 'node:os'

/**
 * Test files (by name in __tests__/) that need more than Node: the screenshot test drives Chromium.
 * `npm test` leaves them out, so it passes on a machine with only Node; `npm run test:browser` runs
 * them (jest.browser.config.js), after `npm run browser` has installed Chromium (see .ci/run).
 */
export const BROWSER_TESTS = ['screenshot']

/**
 * Most of a test file's time is spent waiting (on loopback answers, on the bundle's child process, on
 * the real-time deadlines of the bundle tests), not computing: `npm test` keeps two cores about half
 * busy with one worker per core. Two per core keep them busy without queueing much for the CPU.
 */
const WORKERS_PER_CORE = 2

/** What every jest run here shares; the configs differ only in which test files they run. */
export const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.jest.json' }] },
  // No test may connect anywhere but loopback (see scripts/loopback-only.cjs).
  setupFilesAfterEnv: ['<rootDir>/__tests__/helpers/loopback-only.ts'],
  // Mutation testing copies the project into sandboxes there; a left-over one must not run twice.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
  testTimeout: 30000,
  maxWorkers: WORKERS_PER_CORE * availableParallelism()
}

export default {
  ...shared,
  testMatch: ['**/__tests__/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...BROWSER_TESTS.map(name => `/__tests__/${name}\\.test\\.ts$`)]
}
