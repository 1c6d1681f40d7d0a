export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.jest.json' }] },
  testMatch: ['**/__tests__/**/*.test.ts'],
  // No test may connect anywhere but loopback (see scripts/loopback-only.cjs).
  setupFilesAfterEnv: ['<rootDir>/__tests__/helpers/loopback-only.ts'],
  // Mutation testing copies the project into sandboxes there; a left-over one must not run twice.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
  testTimeout: 30000,
  // The suites mostly wait on timers and loopback I/O, so two workers fit a 2-core machine.
  maxWorkers: 2
}
