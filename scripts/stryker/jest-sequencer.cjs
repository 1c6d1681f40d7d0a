// The order of test files in mutant runs: fastest first, by the times of the dry run, so the unit
// tests of a module get the first chance to kill its mutants before the slow flow tests start
// (see jest-environment.cjs and jest-runner.cjs). Jest's own order is the reverse: slowest first, to keep workers busy.
const Sequencer = require('@jest/test-sequencer').default
const { activeMutant } = require('./kill-state.cjs')

class FastestFirst extends Sequencer {
  sort(tests) {
    // The base sort reads each file's time from jest's cache into test.duration.
    const sorted = super.sort([...tests])
    const size = test => test.context.hasteFS.getSize(test.path) ?? 0
    const timed = test => test.duration !== undefined
    return sorted.sort((a, b) => {
      if (timed(a) && timed(b)) return a.duration - b.duration
      if (timed(a) !== timed(b)) return timed(a) ? -1 : 1
      return size(a) - size(b)
    })
  }

  // Only the dry run's times are kept: a mutant run skips and fails tests, so its times say little.
  cacheResults(tests, results) {
    if (activeMutant() === undefined) super.cacheResults(tests, results)
  }
}

module.exports = FastestFirst
