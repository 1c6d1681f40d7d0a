// Which mutant a test has already failed against, shared by the jest environment and the jest runner
// of mutant runs: jest runs every test file of a mutant run in the one Stryker test runner process.

/** Stryker names the mutant under test in this variable for the length of a mutant run. */
const ACTIVE_MUTANT = '__STRYKER_ACTIVE_MUTANT__'
let killed

const activeMutant = () => process.env[ACTIVE_MUTANT]

module.exports = {
  activeMutant,
  markKilled: () => {
    killed = activeMutant()
  },
  // Mutant ids are unique within a Stryker run, so a kill never carries over to the next mutant.
  isKilled: () => activeMutant() !== undefined && killed === activeMutant()
}
