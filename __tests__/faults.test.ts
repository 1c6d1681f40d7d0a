// The fault matrix: every fault kind against every operation, a seeded random soak, and every bad
// input. `npm test` runs it at a small size; `npm run test:faults` runs the full soak and writes
// the figures the README shows under "Reliability".
//
// Time is a FakeClock the emulator shares: the polls, back-offs, uploads, rebuilds and the watch of a
// lost reprovision take no wall time. Sockets still wait in real time (see src/http/requester.ts),
// so the one fault that needs it, an answer delayed past the client's time-out, costs that time-out.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { type Emulator, type Fault, type FaultRule, type LoggedRequest, startEmulator } from '../emulator/index.js'
import { MAX_WRITES } from '../src/http/settle-write.js'
import { ROOT } from '../scripts/runner.js'
import { BAD_INPUTS } from './helpers/bad-inputs.js'
import { FakeClock } from './helpers/fake-clock.js'
import { baseInputs, type InProcessResult, runInProcess, SOURCE } from './helpers/run-in-process.js'
import { guid } from './helpers/ids.js'

const FULL = process.env.FAULT_SUITE === 'full'
const SOAK_RUNS = FULL ? 200 : 20
const FAULT_RATE = 0.1
/** Real time, as sockets wait in it: long enough that a loaded machine's loopback answer never hits it. */
const REQUEST_TIMEOUT_MS = 300

const POLICY = guid('aaaaaaaa', 1)
/** A policy the run does not roll out, which keeps using an old version. */
const OTHER_POLICY = guid('aaaaaaaa', 2)
const PCS = [1, 2].map(n => guid('cccccccc', n))
/**
 * Older versions for keepVersions 1: 1.2.0 is due for deletion; 1.3.0 stays (OTHER_POLICY uses it),
 * and so does 2.0.0 (newer than the 1.4.0 the run publishes).
 */
const OLD = { due: guid('dddddddd', 120), inUse: guid('dddddddd', 130), newer: guid('dddddddd', 200) }

const VE = '/deviceManagement/virtualEndpoint'
const SOURCE_OF = (version: string) => SOURCE.replace(/win11-dev$/, `win11-dev-${version}`)
const OPERATIONS: Record<string, { method: string; path: RegExp }> = {
  list: { method: 'GET', path: new RegExp(`^${VE}/deviceImages$`) },
  create: { method: 'POST', path: new RegExp(`^${VE}/deviceImages$`) },
  get: { method: 'GET', path: new RegExp(`^${VE}/deviceImages/[^/]+$`) },
  retryUpload: { method: 'POST', path: /\/retryUpload$/ },
  policyPatch: { method: 'PATCH', path: new RegExp(`^${VE}/provisioningPolicies/[^/]+$`) },
  reprovision: { method: 'POST', path: /\/reprovision$/ },
  delete: { method: 'DELETE', path: new RegExp(`^${VE}/deviceImages/[^/]+$`) },
  // The source-image preflight's read of Azure Resource Manager, on the same retry path.
  armRead: { method: 'GET', path: /\/providers\/Microsoft\.Compute\/images\/[^/]+$/ }
}

/** Each fault, made at `now` on the run's clock (a Retry-After date is a time on that clock). */
const FAULTS: Record<string, (now: number) => Fault> = {
  '429 Retry-After seconds': () => ({ kind: 'status', status: 429, retryAfter: '0' }),
  '429 Retry-After date': now => ({ kind: 'status', status: 429, retryAfter: new Date(now - 1000).toUTCString() }),
  '429 no Retry-After': () => ({ kind: 'status', status: 429 }),
  '503 Retry-After': () => ({ kind: 'status', status: 503, retryAfter: '0' }),
  '503 no Retry-After': () => ({ kind: 'status', status: 503 }),
  '500': () => ({ kind: 'status', status: 500 }),
  '502': () => ({ kind: 'status', status: 502 }),
  '504': () => ({ kind: 'status', status: 504 }),
  'commit then 500': () => ({ kind: 'commitThenStatus', status: 500 }),
  'commit then 504': () => ({ kind: 'commitThenStatus', status: 504 }),
  'drop before commit': () => ({ kind: 'drop' }),
  'commit then drop': () => ({ kind: 'commitThenDrop' }),
  'delay past client time-out': () => ({ kind: 'delay', ms: REQUEST_TIMEOUT_MS * 2 }),
  'malformed body': () => ({ kind: 'malformed', body: '{"value": [' })
}
/**
 * A reprovision ends reprovisioned when the service did not act (it is retried) or when it acted and
 * the answer was lost (a read of the Cloud PC shows it started). A lost answer to a reprovision that
 * did not take effect is never repeated: no read shows the rebuild, so it is reported as failed and
 * the step fails.
 */
const REPROVISION_ACCEPTED = new Set([
  '429 Retry-After seconds',
  '429 Retry-After date',
  '429 no Retry-After',
  '503 Retry-After',
  '503 no Retry-After',
  'commit then 500',
  'commit then 504',
  'commit then drop'
])

const figures = {
  runs: 0,
  faultsInjected: 0,
  duplicates: 0,
  wrongExitCodes: 0,
  wrongOutcomes: 0,
  failedRuns: 0,
  soakRunsWithoutFatalFault: 0,
  soakRunsWithoutFatalFaultSucceeded: 0,
  badInputsTried: 0,
  badInputsSentRequest: 0,
  failureReasons: {} as Record<string, number>
}

/** One run against a tenant with old versions, a policy and two Cloud PCs; `faults` are made at the clock's start. */
async function scenario(faults: (now: number) => FaultRule[], seed?: number): Promise<{ e: Emulator; r: InProcessResult }> {
  const clock = new FakeClock()
  const e = await startEmulator({
    now: () => clock.now(),
    seed,
    defaultUpload: [
      { pendingMs: 30, outcome: 'failed', errorCode: 'internalServerError' },
      { pendingMs: 30, outcome: 'ready' }
    ],
    images: [
      { id: OLD.due, displayName: 'Win11-Dev', version: '1.2.0', sourceImageResourceId: SOURCE_OF('1.2.0') },
      { id: OLD.inUse, displayName: 'Win11-Dev', version: '1.3.0', sourceImageResourceId: SOURCE_OF('1.3.0') },
      { id: OLD.newer, displayName: 'Win11-Dev', version: '2.0.0', sourceImageResourceId: SOURCE_OF('2.0.0') }
    ],
    policies: [
      { id: POLICY, displayName: 'Developers', imageType: 'gallery', imageId: 'gallery-image' },
      { id: OTHER_POLICY, displayName: 'Designers', imageId: OLD.inUse }
    ],
    cloudPcs: PCS.map((id, i) => ({
      id,
      displayName: `CPC-${i}`,
      userPrincipalName: `u${i}@contoso.com`,
      provisioningPolicyId: POLICY
    })),
    faults: faults(clock.now())
  })
  try {
    const r = await runInProcess(
      baseInputs(e, {
        pollIntervalSeconds: '0.02',
        timeoutMinutes: '0.5',
        provisioningPolicyIds: POLICY,
        reprovision: 'true',
        // Rebuilds take 100 ms of clock time; a reprovision lost before it took effect is given up after 3 s.
        reprovisionTimeoutMinutes: '0.05',
        keepVersions: '1'
      }),
      { clock, requestTimeoutMs: REQUEST_TIMEOUT_MS, retry: { baseDelayMs: 2, maxDelayMs: 20, stepBudgetMs: 2000 } }
    )
    return { e, r }
  } finally {
    await e.close()
  }
}

interface Verdict {
  duplicate: boolean
  /** The step succeeded although the tenant is not fully in the state it reports. */
  falseSuccess: boolean
  /** Outputs that do not match the tenant, a Cloud PC reprovisioned twice, a crash, or a failure without an annotation. */
  wrongOutcome: string[]
  fullyDone: boolean
}

/** Compares what the action reported with what the emulator holds. */
function judge(e: Emulator, r: InProcessResult): Verdict {
  const images = e.images().filter(i => i.displayName === 'Win11-Dev' && i.version === '1.4.0')
  const image = images[0]
  const policy = e.policies().find(p => p.id === POLICY)
  const counts = PCS.map(id => e.reprovisionCount(id))
  const left = new Set(e.images().map(i => i.id))
  const dueGone = !left.has(OLD.due)
  const fullyDone = image?.status === 'ready' && policy?.imageId === image.id && counts.every(c => c === 1) && dueGone
  const wrong: string[] = []
  if (!left.has(OLD.inUse) || !left.has(OLD.newer))
    wrong.push('retention deleted an image in use or newer than the published one')
  const deleted = JSON.parse(r.outputs.deletedImageIds ?? '[]') as string[]
  if (deleted.some(id => left.has(id))) wrong.push('deletedImageIds names an image that still exists')
  if (dueGone && !deleted.includes(OLD.due)) wrong.push('an image was deleted but deletedImageIds does not say so')
  if (r.code !== 0 && dueGone) wrong.push('retention deleted an image in a failed run')
  const warnedNotDeleted = r.logger.of('warning').some(w => w.title === 'Old image not deleted' && w.message.includes(OLD.due))
  if (r.code === 0 && !dueGone && !warnedNotDeleted) wrong.push('an image due for deletion was left without a warning')
  if (image && r.outputs.imageId !== image.id) wrong.push('imageId output is not the image')
  if (image && r.outputs.status && r.outputs.status !== image.status && r.code === 0)
    wrong.push('status output is not the status')
  if (counts.some(c => c > 1)) wrong.push('a Cloud PC was reprovisioned twice')
  const claimed = JSON.parse(r.outputs.reprovisionedCloudPcIds ?? '[]') as string[]
  if (claimed.some(id => e.reprovisionCount(id) !== 1))
    wrong.push('reprovisionedCloudPcIds names a Cloud PC that was not reprovisioned')
  const shown = new Map(e.cloudPcs().map(pc => [pc.id, pc]))
  if (
    claimed.some(id => shown.get(id)?.status !== 'provisioned' || shown.get(id)?.lastRemoteActionResult?.actionState !== 'done')
  )
    wrong.push('reprovisionedCloudPcIds names a Cloud PC whose rebuild had not finished')
  const failedPcs = JSON.parse(r.outputs.reprovisionFailedCloudPcIds ?? '[]') as string[]
  if (failedPcs.some(id => claimed.includes(id))) wrong.push('a Cloud PC is both reprovisioned and failed')
  if (r.code === 0 && failedPcs.length > 0) wrong.push('the step succeeded with a failed reprovision')
  const errors = r.logger.of('error')
  if (r.code !== 0 && errors.length === 0) wrong.push('failed without an error annotation')
  if (errors.some(x => x.title === 'Unexpected error')) wrong.push(`crashed: ${errors[0].message}`)
  // A delete that fails after a success is a warning by design, not a false success.
  const published = fullyDone || (!dueGone && warnedNotDeleted)
  return { duplicate: images.length > 1, falseSuccess: r.code === 0 && !published, wrongOutcome: wrong, fullyDone }
}

function tally(e: Emulator, r: InProcessResult, verdict: Verdict): void {
  figures.runs++
  figures.faultsInjected += e.requests.filter(x => x.fault).length
  if (verdict.duplicate) figures.duplicates++
  if (verdict.falseSuccess) figures.wrongExitCodes++
  if (verdict.wrongOutcome.length > 0) figures.wrongOutcomes++
  if (r.code !== 0) {
    figures.failedRuns++
    const [error] = r.logger.of('error')
    const reason =
      error?.title === 'Roll-out incomplete' && !/Policies not updated/.test(error.message)
        ? 'a reprovision lost before it took effect'
        : (error?.title ?? 'no error annotation')
    figures.failureReasons[reason] = (figures.failureReasons[reason] ?? 0) + 1
    // FAULT_SUITE_DEBUG=1 shows why a run failed; its seed replays it.
    if (process.env.FAULT_SUITE_DEBUG) console.log(error?.title, error?.message)
  }
}

/** A fault the service acted on, or did not: 429 and 503 say it did not, a commit says it did. */
function faultLeftNoEffect(x: LoggedRequest): boolean {
  if (x.fault === 'commitThenStatus' || x.fault === 'commitThenDrop') return false
  return !(x.fault === 'status' && (x.status === 429 || x.status === 503))
}

/**
 * The faults no run can absorb by design: a reprovision lost before it took effect (never sent
 * twice), and a write lost before taking effect as often as it may be sent. A delete after the
 * publish is not among them: it ends in a warning, and the step succeeds.
 */
function fatalFaults(e: Emulator): LoggedRequest[] {
  const lost = e.requests.filter(
    x => x.fault && x.method !== 'GET' && x.route !== 'token' && x.route !== 'deviceImages.delete' && faultLeftNoEffect(x)
  )
  const perWrite = new Map<string, LoggedRequest[]>()
  for (const x of lost) perWrite.set(`${x.method} ${x.path}`, [...(perWrite.get(`${x.method} ${x.path}`) ?? []), x])
  return [
    ...lost.filter(x => x.route === 'cloudPcs.reprovision'),
    ...[...perWrite.values()].filter(xs => xs.length >= MAX_WRITES).flat()
  ]
}

const failsByDesignOf = (op: string, kind: string) => op === 'reprovision' && !REPROVISION_ACCEPTED.has(kind)

describe('fault matrix: every fault kind against every operation', () => {
  const cases = Object.keys(OPERATIONS).flatMap(op => Object.keys(FAULTS).map(kind => [op, kind] as const))

  it.each(cases)('%s answered with %s', async (op, kind) => {
    const { method, path } = OPERATIONS[op]
    const { e, r } = await scenario(now => [{ method, path, fault: FAULTS[kind](now) }])
    const verdict = judge(e, r)
    tally(e, r, verdict)
    expect(e.requests.filter(x => x.fault)).toHaveLength(1)
    expect(verdict.duplicate).toBe(false)
    expect(verdict.wrongOutcome).toEqual([])
    // The image, its retry, the policy and retention always end right; only a reprovision that did
    // not take effect fails the step (and then retention deletes nothing).
    expect(
      e
        .images()
        .map(i => i.version)
        .sort()
    ).toEqual(failsByDesignOf(op, kind) ? ['1.2.0', '1.3.0', '1.4.0', '2.0.0'] : ['1.3.0', '1.4.0', '2.0.0'])
    expect(r.outputs).toMatchObject({ status: 'ready', uploadAttempts: '2', updatedPolicyIds: JSON.stringify([POLICY]) })
    const failsByDesign = failsByDesignOf(op, kind)
    expect(r.code).toBe(failsByDesign ? 1 : 0)
    if (failsByDesign) expect(r.logger.of('error')[0].title).toBe('Roll-out incomplete')
    else expect(verdict.fullyDone).toBe(true)
    // Bounded work: one repeat at most for the faulted write, a few extra reads.
    expect(e.writes().filter(w => w.status !== 429 && w.status !== 503).length).toBeLessThanOrEqual(7)
    // The Cloud PC list is read every 20 ms while a wave runs: at most its 3-s time-out's worth.
    expect(e.requests.filter(x => x.route !== 'cloudPcs.list').length).toBeLessThan(65)
    // One list per 20 ms poll over the 3 s watch, and at most one more for each list that was faulted:
    // a bound that a retry loop without backoff would break by thousands.
    const lists = e.requests.filter(x => x.route === 'cloudPcs.list')
    expect(lists.length).toBeLessThan(3000 / 20 + 5 + lists.filter(x => x.fault).length)
  })
})

describe(`seeded random soak: ${SOAK_RUNS} runs, ${FAULT_RATE * 100} % of requests faulted`, () => {
  const kinds = Object.keys(FAULTS)
  it.each(Array.from({ length: SOAK_RUNS }, (_, i) => i + 1))('run with seed %i', async seed => {
    // Every route, the token endpoint included; the seed replays a failing run exactly. The first
    // rule that fires wins, so rule i fires with q / (1 - i q): each kind then takes an equal share q.
    const q = FAULT_RATE / kinds.length
    const faults = (now: number): FaultRule[] =>
      kinds.map((kind, i) => ({ times: Infinity, probability: q / (1 - i * q), fault: FAULTS[kind](now) }))
    const { e, r } = await scenario(faults, seed)
    const verdict = judge(e, r)
    tally(e, r, verdict)
    expect(verdict.duplicate).toBe(false)
    expect(verdict.falseSuccess).toBe(false)
    expect(verdict.wrongOutcome).toEqual([])
    expect(e.requests.filter(x => x.route !== 'cloudPcs.list').length).toBeLessThan(150)
    // One list per 20 ms poll over the 3 s watch, and at most one more for each list that was faulted:
    // a bound that a retry loop without backoff would break by thousands.
    const lists = e.requests.filter(x => x.route === 'cloudPcs.list')
    expect(lists.length).toBeLessThan(3000 / 20 + 5 + lists.filter(x => x.fault).length)
    // Every fault the design can absorb is absorbed: only a fatal one may fail the run.
    const fatal = fatalFaults(e)
    if (fatal.length === 0) figures.soakRunsWithoutFatalFault++
    if (fatal.length === 0 && r.code === 0) figures.soakRunsWithoutFatalFaultSucceeded++
    if (fatal.length === 0) expect({ code: r.code, error: r.logger.of('error')[0]?.message }).toEqual({ code: 0 })
    else expect(r.code).toBe(1)
  })
})

describe('bad input fails before any request', () => {
  it.each(BAD_INPUTS)('%s %j', async (input, overrides, message) => {
    const e = await startEmulator()
    try {
      const r = await runInProcess(baseInputs(e, overrides))
      figures.badInputsTried++
      if (e.requests.length > 0) figures.badInputsSentRequest++
      expect(r.code).toBe(1)
      expect(e.requests).toEqual([])
      expect(r.logger.of('error')).toContainEqual(
        expect.objectContaining({ title: `Invalid input: ${input}`, message: expect.stringMatching(message) })
      )
    } finally {
      await e.close()
    }
  })
})

afterAll(() => {
  if (process.env.FAULT_SUITE_DEBUG) console.log(JSON.stringify(figures, null, 2))
  if (!FULL) return
  writeFileSync(
    join(ROOT, 'bench', 'reliability.json'),
    `${JSON.stringify({ node: process.version, soakRuns: SOAK_RUNS, faultRate: FAULT_RATE, ...figures }, null, 2)}\n`
  )
})
