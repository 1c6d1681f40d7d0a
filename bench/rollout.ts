// npm run bench:rollout — reprovisions 1,000 Cloud PCs across 3 policies with the bundled action
// against the emulator under a tenant-wide write budget, and compares the roll-out's wall time
// with the floor the budget allows (writes ÷ budget rate).
//
//   --pcs N            Cloud PCs (default 1000)
//   --writes N         budget: writes per window (default 100)
//   --per-seconds S    budget: window length (default 10)
//   --write-readme     put the figures into README.md between the bench-rollout markers

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEmulator } from '../emulator/index.js'
import { writeReadmeBlock } from '../scripts/readme-blocks.js'
import { ROOT, RUN_CONTEXT, runAction } from '../scripts/runner.js'

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const PCS = arg('pcs', 1000)
const WRITES = arg('writes', 100)
const PER_SECONDS = arg('per-seconds', 10)
const SOURCE =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/images/win11-dev'
const guid = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`
const policies = [1, 2, 3].map(n => guid('aaaaaaaa', n))

const emulator = await startEmulator({
  images: [
    { id: guid('bbbbbbbb', 1), displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: SOURCE, status: 'ready' }
  ],
  policies: policies.map((id, i) => ({ id, displayName: `Policy ${i + 1}`, imageType: 'gallery', imageId: 'gallery' })),
  cloudPcs: Array.from({ length: PCS }, (_, i) => ({
    id: guid('cccccccc', i + 1),
    displayName: `CPC-${i + 1}`,
    userPrincipalName: `user${i + 1}@contoso.com`,
    provisioningPolicyId: policies[i % 3],
    status: 'provisioned'
  })),
  knobs: { writeBudget: { writes: WRITES, perSeconds: PER_SECONDS }, cloudPcPageSize: 100 }
})

console.log(`Reprovisioning ${PCS} Cloud PCs across 3 policies; budget ${WRITES} writes per ${PER_SECONDS} s.`)
const result = await runAction({
  env: RUN_CONTEXT,
  timeoutMs: 30 * 60_000,
  inputs: {
    displayName: 'Win11-Dev',
    version: '1.4.0',
    sourceImageResourceId: SOURCE,
    tenantId: '00000000-0000-0000-0000-000000000001',
    clientId: '00000000-0000-0000-0000-000000000002',
    clientSecret: 'bench-secret',
    graphEndpoint: emulator.url,
    authorityHost: emulator.url,
    provisioningPolicyIds: policies.join(','),
    reprovision: 'true'
  }
})
await emulator.close()

const writes = emulator.writes()
const accepted = writes.filter(w => w.status >= 200 && w.status < 300)
const first = writes[0].time
const last = accepted[accepted.length - 1].time
const wallS = (last - first) / 1000
const floorS = (accepted.length / WRITES) * PER_SECONDS
const counts = Array.from({ length: PCS }, (_, i) => emulator.reprovisionCount(guid('cccccccc', i + 1)))
const figures = {
  node: process.version,
  cloudPcs: PCS,
  budget: `${WRITES} writes / ${PER_SECONDS} s`,
  acceptedWrites: accepted.length,
  rolloutWallSeconds: Number(wallS.toFixed(1)),
  floorSeconds: Number(floorS.toFixed(1)),
  ratio: Number((wallS / floorS).toFixed(3)),
  throttled429: writes.filter(w => w.status === 429).length,
  reprovisionedOnce: counts.filter(c => c === 1).length,
  reprovisionedTwice: counts.filter(c => c > 1).length,
  missed: counts.filter(c => c === 0).length,
  actionExitCode: result.code,
  actionWallSeconds: Number((result.durationMs / 1000).toFixed(1))
}
const met = figures.ratio <= 1.25 && figures.reprovisionedTwice === 0 && figures.missed === 0 && result.code === 0
const table = [
  '| figure | value | target |',
  '|---|---|---|',
  `| Cloud PCs, policies | ${PCS}, 3 | |`,
  `| tenant write budget (emulated) | ${figures.budget} | |`,
  `| roll-out wall time | ${figures.rolloutWallSeconds} s | |`,
  `| floor (${figures.acceptedWrites} writes ÷ budget rate) | ${figures.floorSeconds} s | |`,
  `| wall time ÷ floor | ${figures.ratio} | ≤ 1.25 |`,
  `| 429 answers received | ${figures.throttled429} | |`,
  `| reprovisioned exactly once / twice / missed | ${figures.reprovisionedOnce} / ${figures.reprovisionedTwice} / ${figures.missed} | ${PCS} / 0 / 0 |`,
  `| Node.js | ${figures.node} | |`
].join('\n')
console.log(table)
console.log(met ? 'Target met.' : 'Target MISSED.')
writeFileSync(join(ROOT, 'bench', 'rollout.json'), `${JSON.stringify(figures, null, 2)}\n`)
if (process.argv.includes('--write-readme')) await writeReadmeBlock('bench-rollout', table)
process.exit(met ? 0 : 1)
