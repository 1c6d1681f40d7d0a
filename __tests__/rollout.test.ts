import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, type SeedCloudPc, startEmulator } from '../emulator/index.js'
import { FakeClock } from './helpers/fake-clock.js'
import { baseInputs, runInProcess, SOURCE } from './helpers/run-in-process.js'
import { guid } from './helpers/ids.js'

const P1 = guid('aaaaaaaa', 1)
const P2 = guid('aaaaaaaa', 2)
const P3 = guid('aaaaaaaa', 3)
const IMAGE_ID = guid('bbbbbbbb', 1)

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

function pcs(policy: string, from: number, count: number): (SeedCloudPc & { id: string })[] {
  return Array.from({ length: count }, (_, i) => ({
    id: guid('cccccccc', from + i),
    displayName: `CPC-${from + i}`,
    userPrincipalName: `user${from + i}@contoso.com`,
    provisioningPolicyId: policy,
    status: 'provisioned'
  }))
}

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({
    defaultUpload: [{ pendingMs: 100, outcome: 'ready' }],
    policies: [
      {
        id: P1,
        displayName: 'Developers',
        imageType: 'gallery',
        imageId: 'MicrosoftWindowsDesktop_windows-ent-cpc_win11-24h2-ent-cpc',
        imageDisplayName: 'Windows 11 Enterprise'
      },
      { id: P2, displayName: 'Designers', imageType: 'gallery', imageId: 'x', imageDisplayName: 'x' },
      { id: P3, displayName: 'Others', imageType: 'gallery', imageId: 'x', imageDisplayName: 'x' }
    ],
    ...options
  })
  return emulator
}

const writes = (e: Emulator) => e.writes().map(w => w.route)

describe('roll-out', () => {
  it('points the policies at the ready image and skips one that already uses it', async () => {
    const e = await start({
      images: [{ id: IMAGE_ID, displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: SOURCE, status: 'ready' }],
      policies: [
        { id: P1, displayName: 'Developers', imageType: 'gallery', imageId: 'gallery-image' },
        { id: P2, displayName: 'Designers', imageType: 'custom', imageId: IMAGE_ID, imageDisplayName: 'Win11-Dev' }
      ]
    })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: `${P1}\n${P2}` }))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual(['policies.update'])
    expect(e.writes()[0].path).toBe(`/beta/deviceManagement/virtualEndpoint/provisioningPolicies/${P1}`)
    expect(JSON.parse(e.writes()[0].body)).toEqual({ imageId: IMAGE_ID, imageDisplayName: 'Win11-Dev', imageType: 'custom' })
    expect(e.policies().find(p => p.id === P1)).toMatchObject({ imageId: IMAGE_ID, imageType: 'custom' })
    expect(JSON.parse(r.outputs.updatedPolicyIds)).toEqual([P1, P2])
    expect(r.report.policies!.map(p => p.result)).toEqual(['updated', 'skipped'])
    expect(r.summary).toContain('Provisioning policies')
  })

  it('fails on an unknown policy before publishing anything, naming it', async () => {
    const e = await start()
    const unknown = guid('dddddddd', 9)
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: `${P1},${unknown}` }))
    expect(r.code).toBe(1)
    expect(e.writes()).toEqual([])
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Unknown provisioning policy',
      message: expect.stringContaining(unknown)
    })
  })

  it('rolls out nothing for an image that did not become ready', async () => {
    const e = await start({
      defaultUpload: [{ pendingMs: 50, outcome: 'failed', errorCode: 'osVersionNotSupported' }],
      cloudPcs: pcs(P1, 1, 3)
    })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: P1, reprovision: 'true' }))
    expect(r.code).toBe(1)
    expect(writes(e)).toEqual(['deviceImages.create'])
    expect(r.outputs).toMatchObject({ updatedPolicyIds: '[]', reprovisionedCloudPcIds: '[]' })
  })

  it('reprovisions every Cloud PC of the policies across pages, plus cloudPcIds, each exactly once', async () => {
    const clock = new FakeClock()
    const e = await start({
      now: () => clock.now(),
      knobs: { cloudPcPageSize: 7, reprovisionMs: 20 * 60_000 },
      cloudPcs: [...pcs(P1, 1, 20), ...pcs(P2, 101, 9), ...pcs(P3, 201, 2)]
    })
    // One extra is already among the policies' Cloud PCs (in another case), one belongs to a policy not listed.
    const extras = `${guid('CCCCCCCC', 5)}\n${guid('cccccccc', 201)}`
    const r = await runInProcess(
      baseInputs(e, {
        provisioningPolicyIds: `${P1},${P2}`,
        reprovision: 'true',
        cloudPcIds: extras,
        pollIntervalSeconds: '60',
        timeoutMinutes: '10'
      }),
      { clock }
    )
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    const expected = [...pcs(P1, 1, 20), ...pcs(P2, 101, 9), ...pcs(P3, 201, 1)].map(pc => pc.id)
    expect(JSON.parse(r.outputs.reprovisionedCloudPcIds).sort()).toEqual([...expected].sort())
    for (const id of expected) expect(e.reprovisionCount(id)).toBe(1)
    expect(e.reprovisionCount(guid('cccccccc', 202))).toBe(0)
    const listed = e.requests.filter(x => x.route === 'cloudPcs.list')
    expect(listed[0].query.$filter).toBe(`provisioningPolicyId eq '${P1}'`)
    // P1: 20 in pages of 7, P2: 9 in pages of 7: listed before any change and again after the PATCH,
    // when P3 is listed once for the extra Cloud PC; each poll (every 60 s for the 20-minute rebuild)
    // lists all three policies again.
    const polls = (listed.length - 2 * (3 + 2) - 1) / (3 + 2 + 1)
    expect(Number.isInteger(polls)).toBe(true)
    expect(polls).toBe(20)
    expect(e.cloudPcs().find(pc => pc.id === expected[0])?.status).toBe('provisioned')
    expect(r.logger.of('info').map(l => l.message)).toContainEqual(
      expect.stringContaining('Cloud PCs: 30 reprovisioned (seen provisioned again)')
    )
  })

  it('goes on when one Cloud PC fails, then fails the step naming it', async () => {
    const bad = guid('cccccccc', 3)
    const e = await start({
      cloudPcs: pcs(P1, 1, 6),
      faults: [
        {
          method: 'POST',
          path: new RegExp(`cloudPCs/${bad}/reprovision$`),
          times: Infinity,
          fault: { kind: 'status', status: 400, code: 'badRequest' }
        }
      ]
    })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: P1, reprovision: 'true' }))
    expect(r.code).toBe(1)
    const accepted = JSON.parse(r.outputs.reprovisionedCloudPcIds) as string[]
    expect(accepted).toHaveLength(5)
    expect(accepted).not.toContain(bad)
    expect(e.requests.filter(x => x.path.includes(`${bad}/reprovision`))).toHaveLength(1)
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Roll-out incomplete')
    expect(error.message).toContain(`${bad} "CPC-3" (the request failed: 400 badRequest`)
    expect(r.summary).toContain('5 reprovisioned (seen provisioned again), 1 failed.')
    expect(JSON.parse(r.outputs.reprovisionFailedCloudPcIds)).toEqual([bad])
  })

  it('slows the whole batch down under a tenant write budget, reprovisioning each once', async () => {
    const e = await start({ cloudPcs: pcs(P1, 1, 30), knobs: { writeBudget: { writes: 10, perSeconds: 1 } } })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: P1, reprovision: 'true' }), {
      retry: { baseDelayMs: 5, maxDelayMs: 50, stepBudgetMs: 5000 }
    })
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    const throttled = e.requests.filter(x => x.status === 429)
    expect(throttled.length).toBeGreaterThan(0)
    for (const pc of pcs(P1, 1, 30)) expect(e.reprovisionCount(pc.id)).toBe(1)
  })

  it('waits out a Retry-After in the middle of the batch, reprovisioning each once', async () => {
    const clock = new FakeClock()
    const e = await start({
      now: () => clock.now(),
      cloudPcs: pcs(P1, 1, 40),
      faults: [
        { method: 'POST', path: /reprovision$/, skip: 4, fault: { kind: 'status', status: 429, retryAfter: '1' } },
        // Each reprovision takes a while, so the batch is still going when the 429 comes.
        { method: 'POST', path: /reprovision$/, times: Infinity, fault: { kind: 'delay', ms: 50 } }
      ]
    })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: P1, reprovision: 'true' }), { clock })
    expect(r.code).toBe(0)
    // The service's second was waited out (the gate itself is tested in requester.test.ts).
    expect(clock.sleeps).toContain(1000)
    for (const pc of pcs(P1, 1, 40)) expect(e.reprovisionCount(pc.id)).toBe(1)
  })

  it('reads a policy before writing it again when the PATCH answer is lost', async () => {
    const e = await start({
      faults: [{ method: 'PATCH', path: /provisioningPolicies/, fault: { kind: 'commitThenStatus', status: 504 } }]
    })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: P1 }))
    expect(r.code).toBe(0)
    expect(writes(e).filter(w => w === 'policies.update')).toHaveLength(1)
    // The check before publishing, the read before the PATCH, and the read after the lost answer.
    expect(e.requests.filter(x => x.route === 'policies.get').length).toBe(3)
    expect(JSON.parse(r.outputs.previousPolicyImages)).toEqual({
      [P1]: {
        imageId: 'MicrosoftWindowsDesktop_windows-ent-cpc_win11-24h2-ent-cpc',
        imageDisplayName: 'Windows 11 Enterprise',
        imageType: 'gallery'
      }
    })
  })

  it('does not reprovision the Cloud PCs of a policy that could not be updated', async () => {
    const e = await start({
      cloudPcs: [...pcs(P1, 1, 2), ...pcs(P2, 11, 2)],
      faults: [{ method: 'PATCH', path: new RegExp(P2), fault: { kind: 'status', status: 400, code: 'badRequest' } }]
    })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: `${P1},${P2}`, reprovision: 'true' }))
    expect(r.code).toBe(1)
    expect(JSON.parse(r.outputs.updatedPolicyIds)).toEqual([P1])
    expect(JSON.parse(r.outputs.reprovisionedCloudPcIds).sort()).toEqual(pcs(P1, 1, 2).map(pc => pc.id))
    expect(r.logger.of('error')[0].message).toMatch(/Policies not updated \(their Cloud PCs were not reprovisioned\)/)
  })

  it('lists exactly which Cloud PCs a dry run would reprovision, touching none', async () => {
    const e = await start({ cloudPcs: [...pcs(P1, 1, 3), ...pcs(P2, 11, 1)] })
    const r = await runInProcess(
      baseInputs(e, { provisioningPolicyIds: P1, reprovision: 'true', cloudPcIds: guid('cccccccc', 11), dryRun: 'true' })
    )
    expect(r.code).toBe(0)
    expect(e.writes()).toEqual([])
    expect(r.outputs).toMatchObject({ result: 'planned', updatedPolicyIds: '[]', reprovisionedCloudPcIds: '[]' })
    const log = r.logger.text()
    for (const pc of [...pcs(P1, 1, 3), ...pcs(P2, 11, 1)]) {
      expect(log).toContain(`${pc.id}  ${pc.displayName}  ${pc.userPrincipalName}`)
      expect(r.summary).toContain(pc.userPrincipalName!)
    }
    expect(r.summary).toContain('4 Cloud PCs would be reprovisioned')
    expect(r.report.plan).toContain(`Policy "Developers" (${P1}): would update.`)
  })

  it.each([
    [{ cloudPcIds: guid('cccccccc', 1) }, 'cloudPcIds', /set reprovision: true/],
    [{ reprovision: 'true' }, 'reprovision', /nothing to reprovision/],
    [{ provisioningPolicyIds: P1, wait: 'false' }, 'provisioningPolicyIds', /needs the image to be ready/]
  ])('refuses %j before any request', async (inputs, input, message) => {
    const e = await start()
    const r = await runInProcess(baseInputs(e, inputs))
    expect(r.code).toBe(1)
    expect(e.requests).toEqual([])
    expect(r.logger.of('error')).toEqual([
      expect.objectContaining({ title: `Invalid input: ${input}`, message: expect.stringMatching(message) })
    ])
  })
})
