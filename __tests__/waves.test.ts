// Reprovisioning in waves against the emulator: who is reprovisioned, in which order, what is
// observed, and when the roll-out stops. Time is a FakeClock the emulator shares, so hour-long
// rebuilds pass in milliseconds and every figure is exact.

import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, type SeedCloudPc, startEmulator } from '../emulator/index.js'
import { FakeClock } from './helpers/fake-clock.js'
import { baseInputs, runInProcess, SOURCE } from './helpers/run-in-process.js'
import { guid } from './helpers/ids.js'

const P1 = guid('aaaaaaaa', 1)
const P2 = guid('aaaaaaaa', 2)
const IMAGE_ID = guid('bbbbbbbb', 1)
const OLD_IMAGE = 'MicrosoftWindowsDesktop_windows-ent-cpc_win11-24h2-ent-cpc'
const MINUTE = 60_000
const pcId = (n: number) => guid('cccccccc', n)

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

function pcs(policy: string, from: number, count: number, extra: Partial<SeedCloudPc> = {}): (SeedCloudPc & { id: string })[] {
  return Array.from({ length: count }, (_, i) => ({
    id: pcId(from + i),
    displayName: `CPC-${from + i}`,
    userPrincipalName: `user${from + i}@contoso.com`,
    provisioningPolicyId: policy,
    status: 'provisioned',
    ...extra
  }))
}

interface Started {
  e: Emulator
  clock: FakeClock
}

/** An emulator whose image is ready, with two policies on a gallery image; rebuilds take 40 minutes. */
async function start(options: EmulatorOptions = {}): Promise<Started> {
  const clock = new FakeClock()
  emulator = await startEmulator({
    now: () => clock.now(),
    images: [{ id: IMAGE_ID, displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: SOURCE, status: 'ready' }],
    policies: [
      { id: P1, displayName: 'Developers', imageType: 'gallery', imageId: OLD_IMAGE, imageDisplayName: 'Windows 11 Enterprise' },
      { id: P2, displayName: 'Designers', imageType: 'gallery', imageId: OLD_IMAGE, imageDisplayName: 'Windows 11 Enterprise' }
    ],
    ...options,
    knobs: { reprovisionMs: 40 * MINUTE, ...options.knobs }
  })
  return { e: emulator, clock }
}

function run(s: Started, inputs: Record<string, string>, extra: Parameters<typeof runInProcess>[1] = {}) {
  return runInProcess(
    baseInputs(s.e, {
      provisioningPolicyIds: P1,
      reprovision: 'true',
      pollIntervalSeconds: '60',
      timeoutMinutes: '10',
      ...inputs
    }),
    { clock: s.clock, ...extra }
  )
}

/** The Cloud PCs in the order their reprovision was requested, with the emulator's time of each. */
function requests(e: Emulator): { id: string; time: number }[] {
  return e.requests
    .filter(r => r.route === 'cloudPcs.reprovision' && r.status === 204)
    .map(r => ({ id: /cloudPCs\/([^/]+)\/reprovision$/.exec(r.path)![1], time: r.time }))
}

const ids = (json: string) => (JSON.parse(json) as string[]).sort()

/**
 * Run options whose clock calls `act` at the `poll`-th roll-out poll (a 60-s sleep once a reprovision
 * was sent), with the signal `act` can abort.
 */
function cancelAtPoll(s: Started, poll: number, act: (controller: AbortController) => void) {
  const controller = new AbortController()
  let polls = 0
  return {
    signal: controller.signal,
    clock: {
      now: () => s.clock.now(),
      sleep: async (ms: number) => {
        if (ms === 60_000 && requests(s.e).length > 0 && ++polls === poll) act(controller)
        await s.clock.sleep(ms)
      }
    }
  }
}

/**
 * Calls `act` at the first Cloud PC list after one that showed Cloud PC `id` provisioned again
 * after its reprovision, before it is answered: the re-read at the start of the next wave.
 */
function atReadAfterFinished(e: Emulator, id: string, act: (e: Emulator) => void): void {
  let seenFinished = false
  const arm = (): void =>
    e.before({ method: 'GET', path: /cloudPCs$/ }, em => {
      if (seenFinished) return act(em)
      seenFinished = em.reprovisionCount(id) > 0 && em.cloudPcs().find(pc => pc.id === id)?.status === 'provisioned'
      arm()
    })
  arm()
}

describe('waves', () => {
  it('splits counts and percentages into cumulative waves, in ID order, each after the previous one is seen finished', async () => {
    const s = await start({ cloudPcs: [...pcs(P1, 1, 15), ...pcs(P2, 16, 15)] })
    const r = await run(s, { provisioningPolicyIds: `${P2},${P1}`, reprovisionWaves: '1, 10%,50%' })
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    const sent = requests(s.e)
    // 30 Cloud PCs in ID order: 1, then up to 10 % (3), then up to 50 % (15), then the rest.
    const waveOf = (id: string) => r.report.cloudPcs!.find(pc => pc.id === id)!.wave!
    expect(Array.from({ length: 30 }, (_, i) => waveOf(pcId(i + 1)))).toEqual([
      1,
      ...Array(2).fill(2),
      ...Array(12).fill(3),
      ...Array(15).fill(4)
    ])
    const order = sent.map(x => waveOf(x.id))
    expect(order).toEqual([...order].sort((a, b) => a - b))
    expect(r.report.waves!.map(w => [w.target, w.size, w.outcome])).toEqual([
      ['1', 1, 'finished'],
      ['10%', 2, 'finished'],
      ['50%', 12, 'finished'],
      ['100%', 15, 'finished']
    ])
    const wave = (n: number) => sent.filter(x => waveOf(x.id) === n)
    for (const n of [2, 3, 4]) {
      // Nothing of a wave is requested before every rebuild of the previous one has ended (40 min).
      const previousStart = Math.min(...wave(n - 1).map(x => x.time))
      expect(Math.min(...wave(n).map(x => x.time))).toBeGreaterThanOrEqual(previousStart + 40 * MINUTE)
    }
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual(sent.map(x => x.id).sort())
    for (const x of sent) expect(s.e.reprovisionCount(x.id)).toBe(1)
    expect(r.outputs).toMatchObject({ reprovisionFailedCloudPcIds: '[]', reprovisionSkippedCloudPcIds: '[]' })
    const log = r.logger.text()
    expect(log).toContain('Wave 1 of 4 (up to 1): reprovisioning 1 Cloud PC.')
    expect(log).toContain('Wave 4 of 4 finished after 40m 0s: 15 reprovisioned (seen provisioned again).')
    expect(r.summary).toContain('30 reprovisioned (seen provisioned again).')
    expect(r.summary).toContain('<td>10%</td><td>2</td>')
  })

  it('waits for the slowest rebuild of a wave before the next one starts', async () => {
    const s = await start({
      cloudPcs: [
        ...pcs(P1, 1, 1, { reprovision: { durationMs: 95 * MINUTE } }),
        ...pcs(P1, 2, 3, { reprovision: { durationMs: 5 * MINUTE } })
      ]
    })
    const r = await run(s, { reprovisionWaves: '1' })
    expect(r.code).toBe(0)
    const sent = requests(s.e)
    expect(sent[0].id).toBe(pcId(1))
    for (const later of sent.slice(1)) expect(later.time - sent[0].time).toBeGreaterThanOrEqual(95 * MINUTE)
    expect(r.report.waves!.map(w => w.endedAt! - w.startedAt!)).toEqual([95 * MINUTE, 5 * MINUTE])
    // A heartbeat every five minutes while a wave runs, none more often.
    const beats = r.logger.of('info').filter(l => l.message.startsWith('Wave 1 of 2: '))
    expect(beats[0].message).toBe(
      'Wave 1 of 2: 0 reprovisioned (seen provisioned again), 1 rebuilding after 5m 0s; 3h 55m left before its time-out.'
    )
    expect(beats).toHaveLength(18)
  })

  it('skips Cloud PCs in a status the service does not reprovision from, and excluded ones, naming why', async () => {
    const s = await start({
      cloudPcs: [
        ...pcs(P1, 1, 1),
        ...pcs(P1, 2, 1, { status: 'inGracePeriod' }),
        ...pcs(P1, 3, 1, { status: 'deprovisioning' }),
        ...pcs(P1, 4, 1, { status: 'provisionedWithWarnings' }),
        ...pcs(P1, 5, 1, { status: 'failed' }),
        ...pcs(P1, 6, 1, { status: 'provisioning' }),
        ...pcs(P1, 7, 1)
      ]
    })
    const r = await run(s, { excludeCloudPcIds: `${pcId(7).toUpperCase()}\n${guid('dddddddd', 1)}` })
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual([pcId(1), pcId(4), pcId(5)])
    expect(ids(r.outputs.reprovisionSkippedCloudPcIds)).toEqual([pcId(2), pcId(3), pcId(6), pcId(7)])
    for (const n of [2, 3, 6, 7]) expect(s.e.reprovisionCount(pcId(n))).toBe(0)
    const log = r.logger.text()
    expect(log).toContain(
      `Leaving Cloud PC ${pcId(2)} "CPC-2" alone: status inGracePeriod: the service reprovisions only provisioned or failed Cloud PCs.`
    )
    expect(log).toContain(`Leaving Cloud PC ${pcId(7)} "CPC-7" alone: excluded (excludeCloudPcIds).`)
    expect(r.summary).toContain('<td>deprovisioning</td><td>skipped</td>')
  })

  it('withholds the later waves when the canary fails, and fails the step naming what failed and what was held back', async () => {
    const s = await start({
      cloudPcs: [...pcs(P1, 1, 1, { reprovision: { outcome: 'failed' } }), ...pcs(P1, 2, 9)]
    })
    const r = await run(s, { reprovisionWaves: '1,50%' })
    expect(r.code).toBe(1)
    expect(requests(s.e).map(x => x.id)).toEqual([pcId(1)])
    expect(r.outputs.reprovisionedCloudPcIds).toBe('[]')
    expect(ids(r.outputs.reprovisionFailedCloudPcIds)).toEqual([pcId(1)])
    expect(ids(r.outputs.reprovisionSkippedCloudPcIds)).toEqual(pcs(P1, 2, 9).map(pc => pc.id))
    expect(r.report.waves!.map(w => w.outcome)).toEqual(['finished', 'withheld', 'withheld'])
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Roll-out incomplete')
    expect(error.message).toContain(`Failed: ${pcId(1)} "CPC-1" (the reprovision ended failed (`)
    expect(error.message).toContain(
      'Withheld after wave 1 (1 failed reprovision so far, more than maxReprovisionFailures (0) tolerates)'
    )
    expect(error.message).toContain(pcId(10))
    expect(r.summary).toContain('❌ Cloud PC image ready, roll-out incomplete')
  })

  it('goes on past a tolerated failure, and still fails the step naming it', async () => {
    const s = await start({
      cloudPcs: [...pcs(P1, 1, 1, { reprovision: { outcome: 'failed' } }), ...pcs(P1, 2, 4)]
    })
    const r = await run(s, { reprovisionWaves: '1', maxReprovisionFailures: '1' })
    expect(r.code).toBe(1)
    expect(requests(s.e)).toHaveLength(5)
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual(pcs(P1, 2, 4).map(pc => pc.id))
    expect(ids(r.outputs.reprovisionFailedCloudPcIds)).toEqual([pcId(1)])
    expect(r.outputs.reprovisionSkippedCloudPcIds).toBe('[]')
    expect(r.logger.of('error')[0].message).toContain(`Failed: ${pcId(1)} "CPC-1"`)
    expect(r.logger.of('error')[0].message).not.toContain('Withheld')
  })

  it('times a wave out, withholding the rest and saying the rebuilds go on in the service', async () => {
    const s = await start({
      cloudPcs: [
        ...pcs(P1, 1, 2, { reprovision: { durationMs: 90 * MINUTE } }),
        ...pcs(P1, 3, 2, { reprovision: { durationMs: 5 * MINUTE } })
      ]
    })
    const r = await run(s, { reprovisionWaves: '2', reprovisionTimeoutMinutes: '30' })
    expect(r.code).toBe(1)
    expect(requests(s.e).map(x => x.id)).toEqual([pcId(1), pcId(2)])
    expect(r.report.waves!.map(w => w.outcome)).toEqual(['timedOut', 'withheld'])
    expect(r.report.waves![0].endedAt! - r.report.waves![0].startedAt!).toBe(30 * MINUTE)
    expect(ids(r.outputs.reprovisionFailedCloudPcIds)).toEqual([pcId(1), pcId(2)])
    expect(ids(r.outputs.reprovisionSkippedCloudPcIds)).toEqual([pcId(3), pcId(4)])
    const [error] = r.logger.of('error')
    expect(error.message).toContain(
      `Not seen finished within reprovisionTimeoutMinutes (30m 0s); their rebuilds go on in the service: ${pcId(1)} "CPC-1"; ${pcId(2)} "CPC-2".`
    )
    expect(error.message).toContain(
      'Withheld after wave 1 (wave 1 was not seen finished within reprovisionTimeoutMinutes (30m 0s))'
    )
    // The rebuilds were left running, not repeated.
    for (const n of [1, 2]) expect(s.e.reprovisionCount(pcId(n))).toBe(1)
  })

  it('closes every Cloud PC when the re-read of a later wave fails until its time-out, and the error has the counts', async () => {
    const s = await start({ cloudPcs: pcs(P1, 1, 4) })
    // The outage begins with the first read after wave 1 is seen finished: the re-read of wave 2.
    atReadAfterFinished(s.e, pcId(1), e =>
      e.addFault({ method: 'GET', path: /cloudPCs$/, times: Infinity, fault: { kind: 'status', status: 503, retryAfter: '300' } })
    )
    const r = await run(s, { reprovisionWaves: '1,2', reprovisionTimeoutMinutes: '60' })
    expect(r.code).toBe(1)
    expect(requests(s.e).map(x => x.id)).toEqual([pcId(1)])
    // Each Cloud PC in exactly one output.
    const outputs = ['reprovisionedCloudPcIds', 'reprovisionFailedCloudPcIds', 'reprovisionSkippedCloudPcIds'] as const
    const listed = outputs.flatMap(name => JSON.parse(r.outputs[name]) as string[])
    expect([...listed].sort()).toEqual(pcs(P1, 1, 4).map(pc => pc.id))
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual([pcId(1)])
    expect(ids(r.outputs.reprovisionSkippedCloudPcIds)).toEqual([pcId(2), pcId(3), pcId(4)])
    expect(r.report.cloudPcs!.map(pc => [pc.id, pc.result])).toEqual([
      [pcId(1), 'reprovisioned'],
      [pcId(2), 'notStarted'],
      [pcId(3), 'notStarted'],
      [pcId(4), 'notStarted']
    ])
    expect(r.report.cloudPcs![1].error).toMatch(/^not started: the roll-out stopped \(/)
    expect(r.report.waves!.map(w => w.outcome)).toEqual(['finished', 'stopped', 'withheld'])
    // The re-read was retried up to the wave's time-out, not the shorter budget of a single request.
    const listsFailed = s.e.requests.filter(x => x.route === 'cloudPcs.list' && x.status === 503)
    expect(listsFailed.length).toBeGreaterThan(1)
    expect(listsFailed[listsFailed.length - 1].time - listsFailed[0].time).toBeGreaterThanOrEqual(55 * MINUTE)
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Deadline reached')
    expect(error.message).toMatch(
      /^The image is ready, but the roll-out stopped: GET \/deviceManagement\/virtualEndpoint\/cloudPCs\?\S+ kept failing until the deadline of this step, 1h 0m after its first attempt/
    )
    expect(error.message).toContain(
      '1 of 1 policies use the image; Cloud PCs: 1 reprovisioned (seen provisioned again), 3 not started'
    )
    expect(error.message).toContain(`Not started: ${pcId(2)} "CPC-2"; ${pcId(3)} "CPC-3"; ${pcId(4)} "CPC-4".`)
    expect(r.summary).toContain('1 reprovisioned (seen provisioned again), 3 not started.')
  })

  it('names the Cloud PCs requested and not seen finished when an error stops the watch, in no output', async () => {
    const s = await start({ cloudPcs: pcs(P1, 1, 2) })
    // The app loses its permission once the requests are sent: every read of the watch is refused.
    s.e.before({ method: 'POST', path: /reprovision$/ }, e =>
      e.addFault({ method: 'GET', path: /cloudPCs$/, times: Infinity, fault: { kind: 'status', status: 403, code: 'Forbidden' } })
    )
    const r = await run(s, {})
    expect(r.code).toBe(1)
    expect(requests(s.e).map(x => x.id)).toEqual([pcId(1), pcId(2)])
    expect(r.report.cloudPcs!.map(pc => pc.result)).toEqual(['stopped', 'stopped'])
    expect(r.report.waves!.map(w => w.outcome)).toEqual(['stopped'])
    for (const name of ['reprovisionedCloudPcIds', 'reprovisionFailedCloudPcIds', 'reprovisionSkippedCloudPcIds'])
      expect(r.outputs[name]).toBe('[]')
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Graph GET failed: 403 forbidden')
    expect(error.message).toContain('answered HTTP 403')
    expect(error.message).toContain('grant the Microsoft Graph application permission CloudPC.ReadWrite.All')
    expect(error.message).toContain(
      `Requested, not seen finished when the roll-out stopped (the rebuilds go on in the service): ${pcId(1)} "CPC-1"; ${pcId(2)} "CPC-2".`
    )
    expect(r.summary).toContain('2 requested, not seen finished (the roll-out stopped).')
  })

  it('with reprovisionTimeoutMinutes 0 only requests, and says the reprovisions were accepted, not observed', async () => {
    const s = await start({ cloudPcs: pcs(P1, 1, 3) })
    const r = await run(s, { reprovisionTimeoutMinutes: '0' })
    expect(r.code).toBe(0)
    const lastRequest = Math.max(...s.e.requests.filter(x => x.route === 'cloudPcs.reprovision').map(x => x.seq))
    expect(s.e.requests.filter(x => x.seq > lastRequest && x.route === 'cloudPcs.list')).toEqual([])
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual(pcs(P1, 1, 3).map(pc => pc.id))
    expect(r.report.cloudPcs!.map(pc => pc.result)).toEqual(['accepted', 'accepted', 'accepted'])
    expect(r.summary).toContain(
      '0 reprovisioned (seen provisioned again), 3 accepted, not observed (reprovisionTimeoutMinutes: 0).'
    )
    expect(r.logger.text()).toContain('not waiting for the rebuilds (reprovisionTimeoutMinutes: 0)')
    // The emulator still shows them rebuilding: nothing was waited for.
    expect(s.e.cloudPcs().every(pc => pc.status === 'provisioning')).toBe(true)
  })

  it('stops on a cancellation mid-wave: no later request, and what was started is named as not seen finished', async () => {
    const s = await start({ cloudPcs: pcs(P1, 1, 6) })
    // The third poll of wave 1 is where the runner cancels the job.
    const r = await run(
      s,
      { reprovisionWaves: '2' },
      cancelAtPoll(s, 3, controller => controller.abort())
    )
    expect(r.code).toBe(1)
    expect(requests(s.e).map(x => x.id)).toEqual([pcId(1), pcId(2)])
    expect(r.outputs.reprovisionedCloudPcIds).toBe('[]')
    expect(r.outputs.reprovisionFailedCloudPcIds).toBe('[]')
    expect(ids(r.outputs.reprovisionSkippedCloudPcIds)).toEqual(pcs(P1, 3, 4).map(pc => pc.id))
    expect(r.report.waves!.map(w => w.outcome)).toEqual(['cancelled', 'withheld'])
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Cancelled')
    expect(error.message).toContain(
      `Requested, not seen finished (the rebuilds go on in the service): ${pcId(1)} "CPC-1"; ${pcId(2)} "CPC-2".`
    )
    expect(r.summary).toContain('🛑')
  })

  it('stops on a cancellation that lands while a poll read is in flight, naming what was started', async () => {
    const s = await start({ cloudPcs: pcs(P1, 1, 4) })
    // The runner cancels the job while the second poll's list is being answered.
    const r = await run(
      s,
      { reprovisionWaves: '2' },
      cancelAtPoll(s, 2, controller => s.e.before({ method: 'GET', path: /cloudPCs$/ }, () => controller.abort()))
    )
    expect(r.code).toBe(1)
    expect(r.report.outcome).toBe('cancelled')
    expect(r.report.waves!.map(w => w.outcome)).toEqual(['cancelled', 'withheld'])
    expect(ids(r.outputs.reprovisionSkippedCloudPcIds)).toEqual([pcId(3), pcId(4)])
    expect(r.logger.of('error')[0].message).toContain(
      `Requested, not seen finished (the rebuilds go on in the service): ${pcId(1)} "CPC-1"; ${pcId(2)} "CPC-2".`
    )
  })

  it('stops on a cancellation during the re-read of a later wave: nothing of it requested, each named not started', async () => {
    const s = await start({ cloudPcs: pcs(P1, 1, 3) })
    const controller = new AbortController()
    atReadAfterFinished(s.e, pcId(1), () => controller.abort())
    const r = await run(s, { reprovisionWaves: '1' }, { signal: controller.signal })
    expect(r.code).toBe(1)
    expect(r.report.outcome).toBe('cancelled')
    expect(requests(s.e).map(x => x.id)).toEqual([pcId(1)])
    expect(r.report.waves!.map(w => w.outcome)).toEqual(['finished', 'cancelled'])
    expect(r.report.cloudPcs!.map(pc => [pc.result, pc.error])).toEqual([
      ['reprovisioned', undefined],
      ['notStarted', 'not started: the run was cancelled'],
      ['notStarted', 'not started: the run was cancelled']
    ])
    expect(ids(r.outputs.reprovisionSkippedCloudPcIds)).toEqual([pcId(2), pcId(3)])
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Cancelled',
      message: expect.stringContaining('Cloud PCs: 1 reprovisioned (seen provisioned again), 2 not started.')
    })
  })

  it('with reprovisionTimeoutMinutes 0, counts a reprovision whose answer was lost and not seen to start as failed', async () => {
    const s = await start({
      cloudPcs: pcs(P1, 1, 2),
      faults: [{ method: 'POST', path: new RegExp(`cloudPCs/${pcId(2)}/reprovision$`), fault: { kind: 'drop' } }]
    })
    const r = await run(s, { reprovisionTimeoutMinutes: '0' })
    expect(r.code).toBe(1)
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual([pcId(1)])
    expect(ids(r.outputs.reprovisionFailedCloudPcIds)).toEqual([pcId(2)])
    expect(s.e.requests.filter(x => x.path.endsWith(`${pcId(2)}/reprovision`))).toHaveLength(1)
  })

  it('records what each changed policy held before, read just before the change, in previousPolicyImages', async () => {
    const s = await start({
      images: [
        { id: IMAGE_ID, displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: SOURCE, status: 'ready' },
        { id: guid('bbbbbbbb', 2), displayName: 'Win11-Dev', version: '1.3.0', sourceImageResourceId: SOURCE, status: 'ready' }
      ],
      policies: [
        {
          id: P1,
          displayName: 'Developers',
          imageType: 'gallery',
          imageId: OLD_IMAGE,
          imageDisplayName: 'Windows 11 Enterprise'
        },
        { id: P2, displayName: 'Designers', imageType: 'custom', imageId: IMAGE_ID, imageDisplayName: 'Win11-Dev' }
      ]
    })
    // Another administrator moves P1 to 1.3.0 after the action checked it, while the image is found.
    s.e.before({ method: 'GET', path: /deviceImages$/ }, e => e.pointPolicy(P1, guid('bbbbbbbb', 2)))
    const r = await runInProcess(baseInputs(s.e, { provisioningPolicyIds: `${P1},${P2}` }), { clock: s.clock })
    expect(r.code).toBe(0)
    // What P1 held just before the PATCH, not what the check before the upload saw; P2 was not changed.
    expect(JSON.parse(r.outputs.previousPolicyImages)).toEqual({
      [P1]: { imageId: guid('bbbbbbbb', 2), imageDisplayName: 'Win11-Dev', imageType: 'custom' }
    })
    expect(JSON.parse(r.outputs.updatedPolicyIds)).toEqual([P1, P2])
  })

  it('lists the waves with each Cloud PC (ID, name, user, status) and the skipped ones in a dry run, changing nothing', async () => {
    const s = await start({
      cloudPcs: [...pcs(P1, 1, 4), ...pcs(P1, 5, 1, { status: 'inGracePeriod' }), ...pcs(P1, 6, 1)]
    })
    const r = await run(s, { reprovisionWaves: '1,50%', excludeCloudPcIds: pcId(6), dryRun: 'true' })
    expect(r.code).toBe(0)
    expect(s.e.writes()).toEqual([])
    const log = r.logger.text()
    expect(log).toContain('Would reprovision 4 Cloud PCs, erasing their local data, in 3 waves:')
    expect(log).toContain(`info: Wave 1 (up to 1):\ninfo:   ${pcId(1)}  CPC-1  user1@contoso.com  provisioned`)
    expect(log).toContain(
      `info: Wave 2 (up to 50%):\ninfo:   ${pcId(2)}  CPC-2  user2@contoso.com  provisioned\ninfo: Wave 3 (up to 100%):`
    )
    expect(log).toContain(`Would leave ${pcId(5)} "CPC-5" alone: status inGracePeriod`)
    expect(log).toContain(`Would leave ${pcId(6)} "CPC-6" alone: excluded (excludeCloudPcIds).`)
    expect(r.report.plan).toContain(
      'Reprovision 4 Cloud PCs in 3 waves (wave 1 (up to 1): 1; wave 2 (up to 50%): 1; wave 3 (up to 100%): 2); leave 2 alone.'
    )
    expect(r.summary).toContain('4 Cloud PCs would be reprovisioned, 2 left alone.')
    expect(r.outputs).toMatchObject({
      reprovisionedCloudPcIds: '[]',
      reprovisionSkippedCloudPcIds: '[]',
      previousPolicyImages: '{}'
    })
  })
})

describe('observing rebuilds the way the service may show them', () => {
  it('finds a rebuild from status and provisionedDateTime alone when lastRemoteActionResult is not filled', async () => {
    const s = await start({ cloudPcs: pcs(P1, 1, 2), knobs: { reprovisionRemoteActionResult: 'absent' } })
    const r = await run(s, {})
    expect(r.code).toBe(0)
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual([pcId(1), pcId(2)])
    expect(r.report.waves![0].endedAt! - r.report.waves![0].startedAt!).toBe(40 * MINUTE)
  })

  it('does not take reads that still show the Cloud PC as before the request for a finished rebuild', async () => {
    const s = await start({ cloudPcs: pcs(P1, 1, 2), knobs: { reprovisionVisibleAfterMs: 10 * MINUTE } })
    const r = await run(s, {})
    expect(r.code).toBe(0)
    expect(r.report.waves![0].endedAt! - r.report.waves![0].startedAt!).toBe(40 * MINUTE)
  })

  it('tells a failed Cloud PC rebuilt from one that fails again', async () => {
    const s = await start({
      cloudPcs: [
        ...pcs(P1, 1, 1, { status: 'failed' }),
        ...pcs(P1, 2, 1, { status: 'failed', reprovision: { outcome: 'failed' } })
      ],
      knobs: { reprovisionRemoteActionResult: 'absent' }
    })
    const r = await run(s, {})
    expect(r.code).toBe(1)
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual([pcId(1)])
    expect(ids(r.outputs.reprovisionFailedCloudPcIds)).toEqual([pcId(2)])
    // Not before its rebuild ended: the failed status it started from was not taken as the result.
    expect(r.report.waves![0].endedAt! - r.report.waves![0].startedAt!).toBe(40 * MINUTE)
  })

  it('watches a reprovision whose answer was lost, and counts it once its rebuild shows up', async () => {
    const s = await start({
      cloudPcs: pcs(P1, 1, 3),
      knobs: { reprovisionVisibleAfterMs: 3 * MINUTE },
      faults: [{ method: 'POST', path: new RegExp(`cloudPCs/${pcId(2)}/reprovision$`), fault: { kind: 'commitThenDrop' } }]
    })
    const r = await run(s, {})
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual([pcId(1), pcId(2), pcId(3)])
    expect(s.e.reprovisionCount(pcId(2))).toBe(1)
    expect(r.logger.text()).toContain(
      `Cloud PC ${pcId(2)} "CPC-2": its rebuild was seen under way after the answer to the request was lost.`
    )
  })

  it('fails a reprovision whose answer was lost and whose rebuild never shows up, without sending it again', async () => {
    const s = await start({
      cloudPcs: pcs(P1, 1, 2),
      faults: [{ method: 'POST', path: new RegExp(`cloudPCs/${pcId(2)}/reprovision$`), fault: { kind: 'drop' } }]
    })
    const r = await run(s, {})
    expect(r.code).toBe(1)
    expect(s.e.requests.filter(x => x.path.endsWith(`${pcId(2)}/reprovision`))).toHaveLength(1)
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual([pcId(1)])
    expect(ids(r.outputs.reprovisionFailedCloudPcIds)).toEqual([pcId(2)])
    expect(r.logger.of('error')[0].message).toContain(
      `${pcId(2)} "CPC-2" (the answer to the request was lost, and no read within 5m 0s showed the rebuild start; it is not sent again)`
    )
  })

  it('counts a reprovision the service refuses as failed, whichever way it refuses', async () => {
    const s = await start({
      cloudPcs: pcs(P1, 1, 2),
      faults: [
        {
          method: 'POST',
          path: new RegExp(`cloudPCs/${pcId(1)}/reprovision$`),
          fault: { kind: 'status', status: 409, code: 'conflict' }
        }
      ]
    })
    const r = await run(s, {})
    expect(r.code).toBe(1)
    expect(ids(r.outputs.reprovisionFailedCloudPcIds)).toEqual([pcId(1)])
    expect(ids(r.outputs.reprovisionedCloudPcIds)).toEqual([pcId(2)])
  })

  it('reads the Cloud PCs of a later wave again, and leaves alone one whose status changed since the listing', async () => {
    const s = await start({ cloudPcs: pcs(P1, 1, 3) })
    // While wave 1 rebuilds, the user of CPC-3 has their licence removed.
    s.e.before({ method: 'POST', path: new RegExp(`cloudPCs/${pcId(1)}/reprovision$`) }, e =>
      e.setCloudPcStatus(pcId(3), 'inGracePeriod')
    )
    const r = await run(s, { reprovisionWaves: '1' })
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(requests(s.e).map(x => x.id)).toEqual([pcId(1), pcId(2)])
    expect(ids(r.outputs.reprovisionSkippedCloudPcIds)).toEqual([pcId(3)])
    expect(r.report.cloudPcs!.find(pc => pc.id === pcId(3))!.error).toContain('status inGracePeriod when its wave began')
  })
})
