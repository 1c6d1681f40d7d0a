// Puts the figures of the last full fault suite (bench/reliability.json) into README.md.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeBlock, writeReadmeBlock } from './readme-blocks.js'
import { ROOT } from './runner.js'

const f = JSON.parse(readFileSync(join(ROOT, 'bench', 'reliability.json'), 'utf8')) as Record<string, number | string> & {
  failureReasons: Record<string, number>
}
const reasons = Object.entries(f.failureReasons)
  .map(([reason, n]) => `${reason}: ${n}`)
  .join('; ')
await writeReadmeBlock(
  'reliability',
  [
    '| figure | value | must be |',
    '|---|---|---|',
    `| runs (fault matrix, then a seeded soak of ${f.soakRuns} runs with ${Number(f.faultRate) * 100} % of requests faulted) | ${f.runs} | |`,
    `| faults injected | ${f.faultsInjected} | |`,
    `| duplicate images created | ${f.duplicates} | 0 |`,
    `| wrong exit codes (success reported for a state not reached) | ${f.wrongExitCodes} | 0 |`,
    `| wrong outcomes (outputs unlike the tenant, a Cloud PC reprovisioned twice, an image retention must keep deleted, a crash) | ${f.wrongOutcomes} | 0 |`,
    `| soak runs without a fault the design cannot absorb / that succeeded | ${f.soakRunsWithoutFatalFault} / ${f.soakRunsWithoutFatalFaultSucceeded} | all |`,
    `| runs that ended in a failure, each with an error annotation (a reprovision lost before it took effect is reported as failed, never repeated) | ${f.failedRuns} (${reasons || 'none'}) | |`,
    `| bad inputs tried / that sent a request | ${f.badInputsTried} / ${f.badInputsSentRequest} | … / 0 |`,
    `| Node.js | ${f.node} | |`
  ].join('\n')
)

// The hostile-answer suite's figures (bench/hostile.json), in README.md and in BENCHMARKS.md (and
// the notes BENCHMARKS.md is rendered from, so a later `npm run bench` keeps them).
const h = JSON.parse(readFileSync(join(ROOT, 'bench', 'hostile.json'), 'utf8')) as {
  node: string
  cases: number
  held: number
  findings: number[]
  wrongOutcomes: number
  slowestCaseMs: number
}
const hostile = [
  '| figure | value | must be |',
  '|---|---|---|',
  `| hostile cases tried (the bundle, run as a runner runs it, against a loopback fake of Graph, Entra and ARM) | ${h.cases} | |`,
  `| cases held (nothing done to what was not asked for, no credential off its host, no command from foreign text, bounded, outputs and summary written) | ${h.held} | all |`,
  `| wrong outcomes | ${h.wrongOutcomes} | 0 |`,
  `| slowest case, spawn to exit | ${(h.slowestCaseMs / 1000).toFixed(1)} s | |`,
  `| Node.js | ${h.node} | |`
].join('\n')
await writeReadmeBlock('hostile', hostile)
for (const file of ['BENCHMARKS.md', join('bench', 'NOTES.md')]) await writeBlock(join(ROOT, file), 'hostile', hostile)
