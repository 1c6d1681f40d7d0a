// npm run bench:preflight — what the source-image preflight adds before the create: the time from
// spawning the bundled action to the create reaching the emulator, with `preflight: auto` (a
// managed image: one ARM token request and one ARM read) and with `preflight: false`, interleaved,
// median of RUNS each. Writes the figures into BENCHMARKS.md (through bench/NOTES.md).
//
//   --runs N    runs of each (default 15)
//   --write     put the figures between the bench-preflight markers

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEmulator } from '../emulator/index.js'
import { writeBlock } from '../scripts/readme-blocks.js'
import { ROOT, RUN_CONTEXT, runAction } from '../scripts/runner.js'

const i = process.argv.indexOf('--runs')
const RUNS = i > 0 ? Number(process.argv[i + 1]) : 15
const SOURCE =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/images/win11-dev'

async function startToCreate(preflight: 'auto' | 'false'): Promise<number> {
  const emulator = await startEmulator({ defaultUpload: [{ pendingMs: 0, outcome: 'ready' }] })
  try {
    const result = await runAction({
      env: RUN_CONTEXT,
      inputs: {
        displayName: 'Win11-Preflight',
        version: '1.0.0',
        sourceImageResourceId: SOURCE,
        tenantId: '00000000-0000-0000-0000-000000000001',
        clientId: '00000000-0000-0000-0000-000000000002',
        clientSecret: 'bench',
        graphEndpoint: emulator.url,
        authorityHost: emulator.url,
        armEndpoint: emulator.armUrl,
        preflight,
        pollIntervalSeconds: '0.1'
      }
    })
    if (result.code !== 0) throw new Error(`the run with preflight ${preflight} failed: ${result.stdout.slice(-500)}`)
    const create = emulator.requests.find(r => r.route === 'deviceImages.create')!
    return create.time - (result.exitedAt - result.durationMs)
  } finally {
    await emulator.close()
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const withPreflight: number[] = []
const without: number[] = []
for (let run = 0; run < RUNS; run++) {
  withPreflight.push(await startToCreate('auto'))
  without.push(await startToCreate('false'))
}
const figures = {
  node: process.version,
  runs: RUNS,
  startToCreateWithPreflightMs: median(withPreflight),
  startToCreateWithoutPreflightMs: median(without),
  addedMs: median(withPreflight) - median(without)
}
const table = [
  '| figure | value |',
  '|---|---|',
  `| spawn to create, \`preflight: auto\` (managed image; median of ${RUNS}) | ${figures.startToCreateWithPreflightMs} ms |`,
  `| spawn to create, \`preflight: false\` (median of ${RUNS}, interleaved) | ${figures.startToCreateWithoutPreflightMs} ms |`,
  `| added by the preflight (one ARM token request, one ARM read) | ${figures.addedMs} ms |`,
  `| Node.js | ${figures.node} |`
].join('\n')
console.log(table)
writeFileSync(join(ROOT, 'bench', 'preflight.json'), `${JSON.stringify(figures, null, 2)}\n`)
if (process.argv.includes('--write'))
  for (const file of [join(ROOT, 'bench', 'NOTES.md'), join(ROOT, 'BENCHMARKS.md')])
    await writeBlock(file, 'bench-preflight', table)
