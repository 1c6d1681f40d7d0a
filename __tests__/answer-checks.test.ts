// Every answer is checked against what was asked before anything is done with it: a wrong answer
// is never acted on, and a field Microsoft declares optional that is left out is no verdict.
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, type SeedCloudPc, startEmulator } from '../emulator/index.js'
import { checkEntity, checkRead, DECLARED_FIELDS } from '../src/graph/answer-checks.js'
import { canonicalId, parseCloudPcStatus, parseImageStatus } from '../src/graph/model.js'
import { MAX_JSON_DEPTH, parseJson } from '../src/http/json.js'
import { planWaves } from '../src/rollout/wave-plan.js'
import { baseInputs, runInProcess, SOURCE } from './helpers/run-in-process.js'
import { guid } from './helpers/ids.js'

const P1 = guid('aaaaaaaa', 1)
const P2 = guid('aaaaaaaa', 2)
const FINANCE_IMAGE = guid('bbbbbbbb', 9)
const VE = '/deviceManagement/virtualEndpoint'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

function pcs(policy: string, from: number, count: number, name = 'CPC'): (SeedCloudPc & { id: string })[] {
  return Array.from({ length: count }, (_, i) => ({
    id: guid('cccccccc', from + i),
    displayName: `${name}-${from + i}`,
    userPrincipalName: `user${from + i}@contoso.com`,
    provisioningPolicyId: policy,
    status: 'provisioned'
  }))
}

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({
    defaultUpload: [{ pendingMs: 100, outcome: 'ready' }],
    policies: [
      { id: P1, displayName: 'Developers', imageType: 'gallery', imageId: 'x', imageDisplayName: 'x' },
      { id: P2, displayName: 'Executives', imageType: 'custom', imageId: FINANCE_IMAGE, imageDisplayName: 'Finance-Image' }
    ],
    ...options
  })
  return emulator
}

/** From the first read of the created image on, the next `times` reads answer `body` of it instead. */
function answerImageReads(e: Emulator, times: number, body: (image: object) => string): void {
  const read = /deviceImages\/[^/]+$/
  e.before({ method: 'POST', path: /deviceImages$/ }, () =>
    e.before({ method: 'GET', path: read }, () =>
      e.addFault({ method: 'GET', path: read, times, fault: { kind: 'malformed', status: 200, body: body(e.images()[0]) } })
    )
  )
}

const reprovisioned = (e: Emulator) => e.writes().filter(w => w.route === 'cloudPcs.reprovision')

describe('checks of one answer', () => {
  it('holds the declared kinds to the metadata slice in the repository', () => {
    const slice = JSON.parse(readFileSync('conformance/graph-beta-slice.json', 'utf8')) as {
      types: Record<string, { properties: Record<string, string> }>
      enums: Record<string, unknown>
    }
    const kindOf = (declared: string) =>
      declared.endsWith('[]')
        ? 'array'
        : ['string', 'number', 'boolean'].includes(declared) || declared in slice.enums
          ? declared in slice.enums
            ? 'string'
            : declared
          : 'object'
    for (const [type, fields] of Object.entries(DECLARED_FIELDS))
      for (const [field, kind] of Object.entries(fields)) {
        const declared = slice.types[type]?.properties[field]
        expect({ type, field, declared: declared && kindOf(declared) }).toEqual({ type, field, declared: kind })
      }
  })

  it('refuses an answer that is not an entity, or one whose field has another type', () => {
    for (const value of [null, [], 'x', 3, {}, { value: [{ id: P1 }] }])
      expect(() => checkEntity('cloudPcProvisioningPolicy', value, 'GET p')).toThrow(/not a provisioning policy/)
    expect(() => checkEntity('cloudPcDeviceImage', { id: 'i', status: ['ready'] }, 'GET i')).toThrow(
      'GET i answered with status as an array, where Microsoft declares a string'
    )
    expect(() => checkEntity('cloudPcDeviceImage', { id: 'i', errorCode: { code: 'x' } }, 'GET i')).toThrow(
      /errorCode as an object/
    )
    expect(() => checkEntity('cloudPC', { id: 'c', lastRemoteActionResult: { actionState: 7 } }, 'GET c')).toThrow(
      /lastRemoteActionResult\.actionState as a number/
    )
    // Left out or null: not shown, no verdict.
    expect(checkEntity('cloudPcDeviceImage', { id: 'i', status: null }, 'GET i')).toEqual({ id: 'i', status: null })
  })

  it('refuses a read answered with another entity than the one asked for', () => {
    expect(() => checkRead('cloudPcProvisioningPolicy', { id: P2 }, P1, 'GET p')).toThrow(
      `GET p asked for provisioning policy ${P1} and was answered with provisioning policy ${P2}`
    )
    expect(checkRead('cloudPcProvisioningPolicy', { id: ` {${P1.toUpperCase()}} ` }, P1, 'GET p').id).toBe(
      ` {${P1.toUpperCase()}} `
    )
  })

  it('compares IDs in one canonical form: trimmed, without braces, lower case', () => {
    expect(canonicalId(` {${P1.toUpperCase()}}\n`)).toBe(P1)
    expect(canonicalId(P1)).toBe(P1)
    const [kept, excluded] = pcs(P1, 1, 2)
    const plan = planWaves([kept, { ...excluded, id: `{${excluded.id.toUpperCase()}} ` }], {
      excludeCloudPcIds: [excluded.id],
      reprovisionWaves: [{ kind: 'percent', percent: 100 }]
    })
    expect(plan.waves.flatMap(w => w.members).map(pc => pc.id)).toEqual([kept.id])
    expect(plan.skipped.map(s => s.reason)).toEqual(['excluded (excludeCloudPcIds)'])
  })

  it('reads statuses trimmed and case-insensitively, and an array as no status it knows', () => {
    expect(parseImageStatus('ready ')).toBe('ready')
    expect(parseImageStatus(' READY')).toBe('ready')
    expect(parseImageStatus(['ready'])).toBe('unrecognised')
    expect(parseCloudPcStatus(' Provisioned ')).toBe('provisioned')
  })

  it('refuses JSON nested deeper than the limit before parsing it, brackets in strings not counted', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
    expect(parseJson(deep(MAX_JSON_DEPTH)).ok).toBe(true)
    expect(parseJson(deep(10_000))).toEqual({ ok: false, why: `a body nested deeper than ${MAX_JSON_DEPTH} levels` })
    expect(parseJson(JSON.stringify({ name: '['.repeat(10_000), quote: 'a\\"[' }))).toMatchObject({ ok: true })
  })
})

describe('answers that are not what was asked', () => {
  it("never reprovisions another policy's Cloud PCs when the list ignores the filter", async () => {
    const ours = pcs(P1, 1, 2)
    const ceo = pcs(P2, 10, 5, 'CEO-laptop')
    const e = await start({ cloudPcs: [...ours, ...ceo], knobs: { filter: 'ignore' } })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: P1, reprovision: 'true' }))
    expect(r.code).toBe(0)
    expect(
      reprovisioned(e)
        .map(w => w.path.split('/').at(-2))
        .sort()
    ).toEqual(ours.map(pc => pc.id))
    for (const pc of ceo) expect(e.reprovisionCount(pc.id)).toBe(0)
    expect(JSON.parse(r.outputs.reprovisionedCloudPcIds)).toEqual(ours.map(pc => pc.id))
    const warnings = r.logger.of('warning').map(w => w.message)
    expect(warnings.some(w => w.includes(`policy ${P1} held 5 Cloud PCs of other policies`))).toBe(true)
  })

  it('changes nothing when the policy read answers with another policy', async () => {
    const e = await start({ cloudPcs: pcs(P2, 10, 3, 'CEO-laptop') })
    e.addFault({
      method: 'GET',
      path: `${VE}/provisioningPolicies/${P1}`,
      fault: { kind: 'malformed', status: 200, body: JSON.stringify({ id: P2, displayName: 'Executives', imageType: 'custom' }) }
    })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: P1, reprovision: 'true' }))
    expect(r.code).toBe(1)
    expect(e.writes()).toEqual([])
    expect(r.report.failure?.message).toContain(
      `asked for provisioning policy ${P1} and was answered with provisioning policy ${P2}`
    )
  })

  it('fails before the upload when the policy answer is not a policy at all', async () => {
    const e = await start()
    const wrapped = JSON.stringify({ value: [{ id: P1, displayName: 'Developers' }] })
    e.addFault({
      method: 'GET',
      path: `${VE}/provisioningPolicies/${P1}`,
      fault: { kind: 'malformed', status: 200, body: wrapped }
    })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: P1 }))
    expect(r.code).toBe(1)
    expect(e.writes()).toEqual([])
    expect(r.report.failure).toMatchObject({ title: 'Unexpected Graph answer' })
    expect(r.report.failure?.message).toContain('that has no ID, not a provisioning policy')
  })

  it('never adopts an unrelated image a create answers with', async () => {
    const finance = {
      id: FINANCE_IMAGE,
      displayName: 'Finance-Image',
      version: '7.0.0',
      sourceImageResourceId: `${SOURCE}-finance`,
      status: 'ready' as const
    }
    const e = await start({ images: [finance] })
    e.addFault({
      method: 'POST',
      path: `${VE}/deviceImages`,
      times: 1,
      fault: { kind: 'malformed', status: 201, body: JSON.stringify({ ...finance, errorCode: null }) }
    })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: P1 }))
    expect(r.code).toBe(0)
    const created = e.images().find(i => i.displayName === 'Win11-Dev')!
    expect(created).toBeDefined()
    expect(r.outputs.imageId).toBe(created.id)
    expect(e.policies().find(p => p.id === P1)?.imageId).toBe(created.id)
    expect(e.policies().find(p => p.id === P2)?.imageId).toBe(FINANCE_IMAGE)
  })

  it('names the field of a list item that is not an image instead of failing unexpectedly', async () => {
    const e = await start()
    e.addFault({
      method: 'GET',
      path: `${VE}/deviceImages`,
      fault: { kind: 'malformed', status: 200, body: JSON.stringify({ value: [null] }) }
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    expect(r.report.failure).toMatchObject({ title: 'Unexpected Graph answer' })
    expect(r.report.failure?.message).toContain('(item 1 of the list) answered with null, not an image')
  })

  it('waits the image out when its status comes with a trailing space', async () => {
    const e = await start()
    answerImageReads(e, 1, image => JSON.stringify({ ...image, status: 'ready ' }))
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(r.outputs.status).toBe('ready')
  })

  it('refuses an image whose status is an array, not reporting it ready', async () => {
    const e = await start()
    answerImageReads(e, 1000, image => JSON.stringify({ ...image, status: ['ready'] }))
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    expect(r.outputs.status).not.toBe('ready')
    expect(r.report.failure?.message).toContain('status as an array')
  })

  it('holds a ready image with a 10,000-level property as a malformed answer, outputs written', async () => {
    const e = await start()
    answerImageReads(e, 1000, image =>
      JSON.stringify({ ...image, status: 'ready', extra: 0 }).replace(
        '"extra":0',
        `"extra":${'['.repeat(10_000)}${']'.repeat(10_000)}`
      )
    )
    const r = await runInProcess(baseInputs(e, { timeoutMinutes: '0.02' }))
    expect(r.code).toBe(1)
    expect(r.outputs.imageId).toBe(e.images()[0].id)
    expect(r.outputs.status).toBe('pending')
    expect(r.logger.of('info').some(l => l.message.includes(`nested deeper than ${MAX_JSON_DEPTH} levels`))).toBe(true)
  })
})
