// npm run bench:rollout — reprovisions 1,000 Cloud PCs across 3 policies in waves with the bundled
// action against the emulator, under a tenant-wide write budget, each rebuild taking its own time,
// and compares the roll-out's wall time with its floor: for each wave, the larger of its writes ÷
// the budget rate and its slowest rebuild, summed.
//
//   --pcs N            Cloud PCs (default 1000)
//   --writes N         budget: writes per window (default 100)
//   --per-seconds S    budget: window length (default 10)
//   --waves W          reprovisionWaves (default 1%,10%,100%)
//   --write-readme     put the figures into README.md and BENCHMARKS.md between the bench-rollout markers

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEmulator, type LoggedRequest } from '../emulator/index.js'
import { README, writeBlock } from '../scripts/readme-blocks.js'
import { ROOT, RUN_CONTEXT, runAction } from '../scripts/runner.js'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : fallback
}
const PCS = Number(arg('pcs', '1000'))
const WRITES = Number(arg('writes', '100'))
const PER_SECONDS = Number(arg('per-seconds', '10'))
const WAVES = arg('waves', '1%,10%,100%')
const PAGE_SIZE = 100
const POLL_SECONDS = 1
const SOURCE =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/images/win11-dev'
const guid = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`
const policies = [1, 2, 3].map(n => guid('aaaaaaaa', n))
// Rebuilds spread over 4-12 s (30-60 minutes in a tenant, compressed), the same on every run.
const rebuildMs = (i: number) => 4000 + ((i * 7919) % 8001)
const pcIds = Array.from({ length: PCS }, (_, i) => guid('cccccccc', i + 1))

const emulator = await startEmulator({
  images: [
    { id: guid('bbbbbbbb', 1), displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: SOURCE, status: 'ready' }
  ],
  policies: policies.map((id, i) => ({ id, displayName: `Policy ${i + 1}`, imageType: 'gallery', imageId: 'gallery' })),
  cloudPcs: pcIds.map((id, i) => ({
    id,
    displayName: `CPC-${i + 1}`,
    userPrincipalName: `user${i + 1}@contoso.com`,
    provisioningPolicyId: policies[i % 3],
    status: 'provisioned',
    reprovision: { durationMs: rebuildMs(i) }
  })),
  knobs: { writeBudget: { writes: WRITES, perSeconds: PER_SECONDS }, cloudPcPageSize: PAGE_SIZE }
})

console.log(`Reprovisioning ${PCS} Cloud PCs across 3 policies in waves ${WAVES}; budget ${WRITES} writes per ${PER_SECONDS} s.`)
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
    armEndpoint: emulator.armUrl,
    provisioningPolicyIds: policies.join(','),
    reprovision: 'true',
    reprovisionWaves: WAVES,
    pollIntervalSeconds: String(POLL_SECONDS),
    reprovisionTimeoutMinutes: '10'
  }
})
await emulator.close()

// The waves as the action formed them: the same cumulative rule, over the Cloud PCs in ID order.
const reprovisions = emulator.requests.filter(r => r.route === 'cloudPcs.reprovision')
const accepted = reprovisions.filter(r => r.status === 204)
const idOf = (r: LoggedRequest) => /cloudPCs\/([^/]+)\/reprovision$/.exec(r.path)![1]
const indexOf = new Map(pcIds.map((id, i) => [id, i]))
const waveOf = (i: number): number => {
  let reached = 0
  const targets = WAVES.split(',').map(t => t.trim())
  for (const [w, t] of targets.entries()) {
    const upTo = t.endsWith('%')
      ? Math.min(PCS, Math.max(1, Math.floor((PCS * Number(t.slice(0, -1))) / 100)))
      : Math.min(PCS, Number(t))
    if (upTo <= reached) continue
    if (i < upTo) return w
    reached = upTo
  }
  return targets.length
}
const waves = new Map<number, LoggedRequest[]>()
for (const r of accepted) {
  const w = waveOf(indexOf.get(idOf(r))!)
  waves.set(w, [...(waves.get(w) ?? []), r])
}
const lists = emulator.requests.filter(r => r.route === 'cloudPcs.list')
const rate = WRITES / PER_SECONDS
const perWave = [...waves.entries()].map(([w, sent]) => {
  const all = reprovisions.filter(r => waveOf(indexOf.get(idOf(r))!) === w)
  const first = Math.min(...all.map(r => r.time))
  const lastSent = Math.max(...sent.map(r => r.time))
  const slowest = Math.max(...sent.map(r => rebuildMs(indexOf.get(idOf(r))!)))
  // The wave ends with the read that sees its last rebuild finished: the last list before the next wave.
  const next = [...waves.keys()].includes(w + 1)
    ? Math.min(...reprovisions.filter(r => waveOf(indexOf.get(idOf(r))!) === w + 1).map(r => r.seq))
    : Infinity
  const reads = lists.filter(r => r.seq > Math.max(...sent.map(s => s.seq)) && r.seq < next)
  const end = Math.max(...reads.map(r => r.time))
  return {
    wave: w + 1,
    cloudPcs: sent.length,
    writes: all.length,
    floorSeconds: Math.max(sent.length / rate, slowest / 1000),
    wallSeconds: (end - first) / 1000,
    requestsSeconds: (lastSent - first) / 1000,
    slowestRebuildSeconds: slowest / 1000,
    readsWhileWaiting: reads.length
  }
})
// A poll reads each policy from its first page on; a first page already read in this poll starts the next one.
let readsInPoll = 0
let maxReadsPerPoll = 0
let seenFirst = new Set<string>()
for (const r of lists) {
  if (!r.query.$skiptoken && seenFirst.has(r.query.$filter)) {
    maxReadsPerPoll = Math.max(maxReadsPerPoll, readsInPoll)
    readsInPoll = 0
    seenFirst = new Set()
  }
  if (!r.query.$skiptoken) seenFirst.add(r.query.$filter)
  readsInPoll++
}
maxReadsPerPoll = Math.max(maxReadsPerPoll, readsInPoll)
const pages = policies.reduce((n, _, p) => n + Math.ceil(pcIds.filter((_, i) => i % 3 === p).length / PAGE_SIZE), 0)
const counts = pcIds.map(id => emulator.reprovisionCount(id))
const observed = new Set(JSON.parse(result.outputs.reprovisionedCloudPcIds ?? '[]') as string[])
const wallS = perWave.reduce((s, w) => s + w.wallSeconds, 0)
const floorS = perWave.reduce((s, w) => s + w.floorSeconds, 0)
const figures = {
  node: process.version,
  cloudPcs: PCS,
  waves: WAVES,
  budget: `${WRITES} writes / ${PER_SECONDS} s`,
  rebuilds: '4-12 s each',
  perWave: perWave.map(w => ({
    ...w,
    floorSeconds: Number(w.floorSeconds.toFixed(1)),
    wallSeconds: Number(w.wallSeconds.toFixed(1)),
    requestsSeconds: Number(w.requestsSeconds.toFixed(1))
  })),
  rolloutWallSeconds: Number(wallS.toFixed(1)),
  floorSeconds: Number(floorS.toFixed(1)),
  ratio: Number((wallS / floorS).toFixed(3)),
  throttled429: reprovisions.filter(w => w.status === 429).length,
  readsWhileWaiting: perWave.reduce((s, w) => s + w.readsWhileWaiting, 0),
  maxReadsPerPoll,
  pagesOfTheLists: pages,
  reprovisionedOnce: counts.filter(c => c === 1).length,
  reprovisionedTwice: counts.filter(c => c > 1).length,
  missed: counts.filter(c => c === 0).length,
  observedFinished: pcIds.filter(id => observed.has(id)).length,
  actionExitCode: result.code,
  actionWallSeconds: Number((result.durationMs / 1000).toFixed(1))
}
const met =
  figures.ratio <= 1.25 &&
  figures.maxReadsPerPoll <= pages &&
  figures.reprovisionedOnce === PCS &&
  figures.observedFinished === PCS &&
  result.code === 0
const table = [
  '| figure | value | target |',
  '|---|---|---|',
  `| Cloud PCs, policies, waves | ${PCS}, 3, \`${WAVES}\` | |`,
  `| tenant write budget (emulated), rebuild times | ${figures.budget}, ${figures.rebuilds} | |`,
  ...figures.perWave.map(
    w =>
      `| wave ${w.wave}: Cloud PCs, wall time, floor | ${w.cloudPcs}, ${w.wallSeconds} s, ${w.floorSeconds} s (max of ${w.cloudPcs} writes ÷ ${rate}/s and the slowest rebuild, ${w.slowestRebuildSeconds} s) | |`
  ),
  `| roll-out wall time ÷ floor | ${figures.rolloutWallSeconds} s ÷ ${figures.floorSeconds} s = ${figures.ratio} | ≤ 1.25 |`,
  `| Graph reads while waiting; most in one poll | ${figures.readsWhileWaiting}; ${figures.maxReadsPerPoll} | ≤ ${pages} (the pages of the 3 lists) |`,
  `| 429 answers received | ${figures.throttled429} | |`,
  `| reprovisioned exactly once / twice / missed | ${figures.reprovisionedOnce} / ${figures.reprovisionedTwice} / ${figures.missed} | ${PCS} / 0 / 0 |`,
  `| observed finished (reprovisionedCloudPcIds) | ${figures.observedFinished} | ${PCS} |`,
  `| Node.js | ${figures.node} | |`
].join('\n')
console.log(table)
console.log(met ? 'Target met.' : 'Target MISSED.')
writeFileSync(join(ROOT, 'bench', 'rollout.json'), `${JSON.stringify(figures, null, 2)}\n`)
// BENCHMARKS.md is bench/NOTES.md below the table `npm run bench` writes: the block goes into all three.
if (process.argv.includes('--write-readme'))
  for (const file of [README, join(ROOT, 'bench', 'NOTES.md'), join(ROOT, 'BENCHMARKS.md')])
    await writeBlock(file, 'bench-rollout', table)
process.exit(met ? 0 : 1)
