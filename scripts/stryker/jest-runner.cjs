// The jest runner of mutant runs: once the mutant is killed, the test files after it are not even
// loaded. Loading one (a fresh ES module graph of src/ and the emulator) costs more CPU than most
// of its tests, and a mutant run would otherwise load every test file that imports the module.
const TestRunner = require('jest-runner').default
const { activeMutant, isKilled } = require('./kill-state.cjs')

class StopWhenKilled extends TestRunner {
  async runTests(tests, watcher, options) {
    // Stryker runs jest in band; anything else (and the dry run) goes through unchanged.
    if (!options.serial || activeMutant() === undefined) return super.runTests(tests, watcher, options)
    for (const test of tests) {
      if (isKilled()) break
      await super.runTests([test], watcher, options)
    }
  }
}

module.exports = StopWhenKilled
