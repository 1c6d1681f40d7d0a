import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'lib/', 'coverage/', 'node_modules/', 'reports/', '.stryker-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      // The action writes through @actions/core, never the console.
      'no-console': 'error'
    }
  },
  {
    // The action itself: rules that need the types, so a promise left floating, an unsafe any or a
    // switch that misses a member of a union is an error.
    files: ['src/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }]
    }
  },
  {
    // Scripts, benchmarks, the emulator's command line and tests print to the console by design.
    files: ['scripts/**', 'bench/**', 'emulator/cli.ts', '__tests__/**'],
    rules: { 'no-console': 'off' }
  },
  {
    // Stryker loads its jest plugins with require(), and node --require the loopback guard: CommonJS.
    files: ['scripts/stryker/*.cjs', 'scripts/loopback-only.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  },
  {
    // Graph bodies are free-form JSON in the emulator's own tests.
    files: ['__tests__/emulator.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' }
  }
)
