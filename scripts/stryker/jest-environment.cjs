// The jest environment of mutant runs: once a test has failed against the active mutant, the tests
// after it are skipped. The mutant is already killed, and Stryker's jest runner cannot bail by
// itself. Dry runs (no active mutant) run everything, so coverage and timings stay complete.
// CommonJS, as are the other plugins here, because Stryker loads it with require().
const { TestEnvironment } = require('jest-environment-node')
const { activeMutant, isKilled, markKilled } = require('./kill-state.cjs')

class BailOnFirstFailure extends TestEnvironment {
  async handleTestEvent(event) {
    if (activeMutant() === undefined) return
    if ((event.name === 'test_done' && event.test.errors.length > 0) || event.name === 'hook_failure') markKilled()
    else if (event.name === 'test_start' && isKilled()) event.test.mode = 'skip'
  }
}

module.exports = BailOnFirstFailure
