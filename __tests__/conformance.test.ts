// Conformance with Microsoft's published Graph types (conformance/graph-beta-slice.json): every
// property the emulator renders and every property the action sends is declared for its type,
// every enum value is a declared member, and every action the emulator serves is a declared one.
// The slice is beta's; v1.0's types are subsets of beta's for these resources, so beta's
// declarations bound both (what v1.0 lacks, such as cloudPC.status, is tested in emulator.test.ts).

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from '@jest/globals'
import { KNOWN_ENUMS } from '../emulator/enums.js'
import { SERVED_ROUTES } from '../emulator/graph-routes.js'
import { startEmulator, type Emulator, type EmulatorOptions, type SeedCloudPc, type SeedImage } from '../emulator/index.js'
import { readMetadataSlice } from '../scripts/graph-metadata.js'
import type { GraphSlice } from '../scripts/graph-slice.js'
import { ROOT } from '../scripts/runner.js'
import { baseInputs, OTHER_SOURCE, runInProcess, SOURCE } from './helpers/run-in-process.js'

const slice = JSON.parse(readFileSync(join(ROOT, 'conformance', 'graph-beta-slice.json'), 'utf8')) as GraphSlice
const SENTINEL = 'unknownFutureValue'
const VE = '/deviceManagement/virtualEndpoint'
const PREFER = 'include-unknown-enum-members'
const POLICY_ID = '22222222-bbbb-4bbb-8bbb-222222222222'
const PC_ID = '33333333-cccc-4ccc-8ccc-333333333333'

const members = (enumName: string): string[] => slice.enums[enumName]?.members ?? []
const routeOf = (name: string) => SERVED_ROUTES.find(r => r.name === name)

/** Problems found in one value of a declared type; an empty list means it conforms. */
function checkValue(type: string, value: unknown, where: string): string[] {
  if (value === null) return []
  if (type.endsWith('[]')) {
    if (!Array.isArray(value)) return [`${where}: expected a collection of ${type.slice(0, -2)}`]
    return value.flatMap((item, i) => checkValue(type.slice(0, -2), item, `${where}[${i}]`))
  }
  if (type === 'string' || type === 'number' || type === 'boolean')
    return typeof value === type ? [] : [`${where}: ${JSON.stringify(value)} is not a ${type}`]
  const declaredEnum = slice.enums[type]
  if (declaredEnum)
    return typeof value === 'string' && declaredEnum.members.includes(value)
      ? []
      : [`${where}: ${JSON.stringify(value)} is not a member of ${type}`]
  if (slice.types[type]) return checkEntity(type, value, where)
  return [`${where}: a value of ${type}, which the slice does not hold, so it cannot be checked`]
}

/** Every property of `value` must be declared on `type`; OData annotations are not properties. */
function checkEntity(type: string, value: unknown, where: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${where}: expected a ${type} object`]
  const declared = slice.types[type].properties
  return Object.entries(value).flatMap(([name, v]) => {
    if (name.startsWith('@odata.')) return []
    const propertyType = declared[name]
    if (propertyType === undefined && slice.types[type].untyped?.includes(name))
      return [`${where}.${name}: declared by the metadata, but the typings give it no type, so it cannot be checked`]
    if (propertyType === undefined) return [`${where}.${name}: not declared on ${type}`]
    return checkValue(propertyType, v, `${where}.${name}`)
  })
}

/** Walks a successful Graph response: one entity, or a collection page of them. */
function checkResponse(type: string, body: unknown, where: string): string[] {
  if (typeof body === 'object' && body !== null && Array.isArray((body as { value?: unknown }).value))
    return (body as { value: unknown[] }).value.flatMap((item, i) => checkEntity(type, item, `${where} value[${i}]`))
  return checkEntity(type, body, where)
}

/** Fetches Graph responses and checks each successful one; failures and Graph error bodies are not resources. */
class Reader {
  readonly findings: string[] = []
  /** Every enum value seen, by enum, to show the scenarios reach every member. */
  readonly seen = new Map<string, Set<string>>()
  responses = 0

  constructor(private readonly e: Emulator) {}

  async send(method: string, path: string, o: { prefer?: boolean; body?: unknown } = {}): Promise<unknown> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.e.issueToken()}` }
    if (o.prefer !== false) headers.prefer = PREFER
    if (o.body !== undefined) headers['content-type'] = 'application/json'
    const url = path.startsWith('http') ? path : `${this.e.url}${path}`
    const res = await fetch(url, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) })
    const text = await res.text()
    if (!res.ok || text === '') return undefined
    const logged = this.e.requests.at(-1)!
    const type = routeOf(logged.route)?.type
    if (type === undefined) throw new Error(`${method} ${path} answered ${res.status} on a route the emulator does not declare`)
    const body: unknown = JSON.parse(text)
    this.findings.push(...checkResponse(type, body, `${method} ${logged.path}${o.prefer === false ? '' : ' (Prefer)'}`))
    this.note(type, body)
    this.responses += 1
    return body
  }

  /** Reads every page of a collection. */
  async list(path: string, prefer = true): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = []
    for (let next: string | undefined = path; next !== undefined;) {
      const page = (await this.send('GET', next, { prefer })) as { value: Record<string, unknown>[]; '@odata.nextLink'?: string }
      items.push(...page.value)
      next = page['@odata.nextLink']
    }
    return items
  }

  private note(type: string, body: unknown): void {
    const items = Array.isArray((body as { value?: unknown }).value) ? (body as { value: unknown[] }).value : [body]
    const visit = (t: string, entity: unknown): void => {
      if (typeof entity !== 'object' || entity === null) return
      for (const [name, v] of Object.entries(entity)) {
        const propertyType = slice.types[t]?.properties[name]
        if (propertyType === undefined || v === null) continue
        if (slice.enums[propertyType] && typeof v === 'string') {
          if (!this.seen.has(propertyType)) this.seen.set(propertyType, new Set())
          this.seen.get(propertyType)!.add(v)
        }
        if (slice.types[propertyType]) visit(propertyType, v)
      }
    }
    for (const item of items) visit(type, item)
  }
}

function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = Date.parse('2026-03-01T08:00:00Z')
  return { now: () => t, advance: ms => (t += ms) }
}

let emulators: Emulator[] = []
afterEach(async () => {
  await Promise.all(emulators.map(e => e.close()))
  emulators = []
})

async function start(options: EmulatorOptions): Promise<Emulator> {
  const e = await startEmulator(options)
  emulators.push(e)
  return e
}

/** One image in each settled or running status, and a failed one for every declared error code. */
function everyImage(): SeedImage[] {
  const image = (name: string, more: Partial<SeedImage>): SeedImage => ({
    id: `img-${name}`,
    displayName: name,
    version: '1.0.0',
    sourceImageResourceId: SOURCE,
    ...more
  })
  return [
    image('pending', { status: 'pending' }),
    image('ready', { status: 'ready' }),
    image('warning', { status: 'warning' }),
    ...members('cloudPcDeviceImageErrorCode').map(code => image(`failed-${code}`, { status: 'failed', errorCode: code }))
  ]
}

/** One Cloud PC in each declared status, plus the ones reprovisioned below. */
function everyCloudPc(): SeedCloudPc[] {
  return [
    ...members('cloudPcStatus').map(status => ({
      id: `pc-${status}`,
      displayName: `PC ${status}`,
      provisioningPolicyId: 'pol-custom',
      status
    })),
    { id: 'pc-busy', displayName: 'PC busy', userPrincipalName: 'ana@contoso.example', provisioningPolicyId: 'pol-custom' },
    { id: 'pc-done', displayName: 'PC done', provisioningPolicyId: 'pol-gallery', provisionedDateTime: '2025-11-02T10:00:00Z' }
  ]
}

/** Reads every resource shape the emulator has, on both versions, with and without the Prefer header. */
async function readEverything(r: Reader): Promise<void> {
  for (const version of ['beta', 'v1.0'])
    for (const prefer of [true, false]) {
      const images = await r.list(`/${version}${VE}/deviceImages`, prefer)
      for (const img of images) await r.send('GET', `/${version}${VE}/deviceImages/${String(img.id)}`, { prefer })
      await r.list(`/${version}${VE}/deviceImages?$select=id,status,errorCode,osStatus`, prefer)
      const policies = await r.list(`/${version}${VE}/provisioningPolicies`, prefer)
      for (const p of policies) await r.send('GET', `/${version}${VE}/provisioningPolicies/${String(p.id)}`, { prefer })
      const pcs = await r.list(`/${version}${VE}/cloudPCs`, prefer)
      for (const pc of pcs) await r.send('GET', `/${version}${VE}/cloudPCs/${String(pc.id)}`, { prefer })
      await r.list(`/${version}${VE}/cloudPCs?$select=id,status,lastRemoteActionResult,provisionedDateTime`, prefer)
    }
}

describe('the checker', () => {
  it('refuses an undeclared property, an undeclared member, a wrong primitive and a type outside the slice', () => {
    const image = {
      '@odata.context': 'x',
      id: 'i',
      osState: 'supported',
      status: 'uploading',
      sizeInGB: '64',
      statusDetails: 'x'
    }
    expect(checkEntity('cloudPcDeviceImage', image, 'image')).toEqual([
      'image.osState: not declared on cloudPcDeviceImage',
      'image.status: "uploading" is not a member of cloudPcDeviceImageStatus',
      'image.sizeInGB: "64" is not a number',
      'image.statusDetails: a value of cloudPcDeviceImageStatusDetails, which the slice does not hold, so it cannot be checked'
    ])
    const pc = { lastRemoteActionResult: { actionName: 'reprovision', actionState: 'running' } }
    expect(checkEntity('cloudPC', pc, 'pc')).toEqual([
      'pc.lastRemoteActionResult.actionState: "running" is not a member of actionState'
    ])
  })
})

describe("the slice is Microsoft's metadata", () => {
  const metadata = readMetadataSlice()
  const own = (name: string): string[] => [...metadata.types[name].properties, ...metadata.types[name].navigationProperties]

  it('declares exactly the properties the metadata lists for each type, its base types included', () => {
    for (const [name, type] of Object.entries(slice.types)) {
      const declared = [...Object.keys(type.properties), ...(type.untyped ?? [])].sort()
      expect([name, declared]).toEqual([name, [...type.extends.flatMap(own), ...own(name)].sort()])
    }
  })

  it('declares exactly the members the metadata lists for each enum', () => {
    for (const [name, declared] of Object.entries(slice.enums))
      expect([name, [...declared.members].sort()]).toEqual([name, [...metadata.enums[name]].sort()])
  })

  it('refuses a property the metadata declares but the typings do not type', () => {
    expect(checkEntity('cloudPC', { lastLogoffDateTime: '2026-11-30T18:00:00Z' }, 'pc')).toEqual([
      'pc.lastLogoffDateTime: declared by the metadata, but the typings give it no type, so it cannot be checked'
    ])
  })
})

describe('what the emulator renders is what Microsoft declares', () => {
  it('every image, create and update response, policy and Cloud PC, on beta and v1.0, with and without Prefer', async () => {
    const clock = manualClock()
    const e = await start({
      now: clock.now,
      images: everyImage(),
      policies: [
        { id: 'pol-gallery', displayName: 'Gallery' },
        { id: 'pol-custom', displayName: 'Custom', imageId: 'img-ready' }
      ],
      cloudPcs: everyCloudPc(),
      defaultUpload: [{ pendingMs: 1000, outcome: 'ready' }],
      knobs: {
        imageCap: 30,
        imagePageSize: 4,
        cloudPcPageSize: 7,
        reprovisionMs: 500,
        imagePatch: 'accept200',
        staleReadsAfterRetryMs: 100
      }
    })
    const r = new Reader(e)
    const images = `/beta${VE}/deviceImages`

    // Create responses with both createResponseOsFields settings, on both versions.
    for (const osFields of ['null', 'filled'] as const) {
      e.setKnobs({ createResponseOsFields: osFields })
      for (const version of ['beta', 'v1.0']) {
        const body = { displayName: `Created-${osFields}-${version}`, version: '1.0.0', sourceImageResourceId: SOURCE }
        expect(await r.send('POST', `/${version}${VE}/deviceImages`, { body })).toBeDefined()
      }
    }
    // An accepted PATCH answers with the image; a retry shows the old failure, then the new upload.
    expect(
      await r.send('PATCH', `${images}/img-failed-internalServerError`, { body: { sourceImageResourceId: OTHER_SOURCE } })
    ).toBeDefined()
    await r.send('POST', `${images}/img-failed-internalServerError/retryUpload`)
    await r.send('GET', `${images}/img-failed-internalServerError`)

    // Cloud PCs: one mid-reprovision, one whose reprovision has finished, the rest never reprovisioned.
    await r.send('POST', `/beta${VE}/cloudPCs/pc-done/reprovision`)
    clock.advance(400)
    await r.send('POST', `/beta${VE}/cloudPCs/pc-busy/reprovision`)
    clock.advance(200)
    await readEverything(r)
    e.setKnobs({ mapEvolvableWithoutPrefer: false })
    await readEverything(r)

    expect(r.findings).toEqual([])
    expect(r.responses).toBeGreaterThan(300)
    // The scenarios reach every member the emulator can render, so none went unchecked.
    for (const [enumName, known] of Object.entries(KNOWN_ENUMS))
      expect([...(r.seen.get(enumName) ?? [])].sort()).toEqual([...known.stable, ...known.evolvable].sort())
    expect(r.seen.get('actionState')).toEqual(new Set(['active', 'done']))
    expect(r.seen.get('cloudPcProvisioningPolicyImageType')).toEqual(new Set(['gallery', 'custom']))
    expect(r.seen.get('cloudPcDeviceImageOsStatus')).toEqual(new Set(['supported']))
  })

  it('the prose spelling knob is the one deliberate deviation, and only on errorCode', async () => {
    // The reference prose writes vmAlreadyAzureAdJoined where the metadata declares
    // vmAlreadyAzureAdjoined (docs/graph-facts.md#error-code-spelling); the knob lets tests play a service that sends the
    // prose spelling, so clients must compare case-insensitively. The slice rightly refuses it.
    const e = await start({
      images: everyImage(),
      knobs: { imagePageSize: 50, vmAlreadyAzureAdjoinedSpelling: 'prose' }
    })
    const r = new Reader(e)
    await r.list(`/beta${VE}/deviceImages`)
    await r.list(`/v1.0${VE}/deviceImages`)
    expect(r.findings).toEqual([
      `GET /beta${VE}/deviceImages (Prefer) value[9].errorCode: "vmAlreadyAzureAdJoined" is not a member of cloudPcDeviceImageErrorCode`,
      `GET /v1.0${VE}/deviceImages (Prefer) value[9].errorCode: "vmAlreadyAzureAdJoined" is not a member of cloudPcDeviceImageErrorCode`
    ])
  })

  it('the emulator splits each enum at unknownFutureValue where the slice does', () => {
    for (const [enumName, known] of Object.entries(KNOWN_ENUMS)) {
      const declared = members(enumName)
      const cut = declared.indexOf(SENTINEL) + 1
      expect(known.stable).toEqual(declared.slice(0, cut))
      expect([...known.evolvable].sort()).toEqual(declared.slice(cut).sort())
    }
  })

  it('every route serves a declared type, and every bound action it serves is declared', () => {
    for (const route of SERVED_ROUTES) {
      expect(slice.types[route.type]).toBeDefined()
      // A segment after the entity key names a bound action (or function): the route must say which.
      const trailing = /\\\/\(\[\^\/\]\+\)\\\/(\w+)\$$/.exec(route.pattern)?.[1]
      expect([route.name, route.action]).toEqual([route.name, trailing])
      if (route.action !== undefined)
        expect([route.name, slice.actions[route.type]?.[route.action]]).toEqual([route.name, expect.anything()])
    }
    expect(SERVED_ROUTES.filter(r => r.action !== undefined).map(r => r.name)).toEqual([
      'deviceImages.retryUpload',
      'deviceImages.reupload',
      'cloudPcs.reprovision'
    ])
  })
})

describe('what the action sends is what Microsoft declares', () => {
  /** Problems in the bodies and `$select` lists the action sent; routes it wrote to, to show what was checked. */
  function checkRequests(e: Emulator): { findings: string[]; written: string[] } {
    const findings: string[] = []
    const written: string[] = []
    for (const request of e.requests) {
      const route = routeOf(request.route)
      if (route === undefined) continue
      const where = `${request.method} ${request.path}`
      for (const name of (request.query.$select ?? '').split(',').filter(n => n !== ''))
        if (slice.types[route.type].properties[name] === undefined)
          findings.push(`${where} $select: ${name} is not declared on ${route.type}`)
      if (request.method === 'GET' || request.method === 'DELETE') continue
      written.push(request.route)
      if (request.body.trim() === '') continue
      const body: unknown = JSON.parse(request.body)
      if (route.action === undefined) {
        findings.push(...checkEntity(route.type, body, where))
        continue
      }
      const parameters = slice.actions[route.type]?.[route.action]?.parameters ?? {}
      for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
        const type = parameters[name]
        if (type === undefined) findings.push(`${where}.${name}: not a parameter of ${route.action}`)
        else findings.push(...checkValue(type, value, `${where}.${name}`))
      }
    }
    return { findings, written: [...new Set(written)] }
  }

  it('a create', async () => {
    const e = await start({ defaultUpload: [{ pendingMs: 100, outcome: 'ready' }] })
    const r = await runInProcess(baseInputs(e))
    expect(r.logger.of('error')).toEqual([])
    const { findings, written } = checkRequests(e)
    expect(findings).toEqual([])
    expect(written).toContain('deviceImages.create')
  })

  it('an onExisting update of a failed image with another source', async () => {
    const e = await start({
      images: [
        {
          id: '11111111-aaaa-4aaa-8aaa-111111111111',
          displayName: 'Win11-Dev',
          version: '1.4.0',
          sourceImageResourceId: SOURCE,
          status: 'failed',
          errorCode: 'sourceImageNotFound'
        }
      ],
      defaultUpload: [{ pendingMs: 100, outcome: 'ready' }],
      knobs: { imagePatch: 'accept200' }
    })
    const r = await runInProcess(baseInputs(e, { sourceImageResourceId: OTHER_SOURCE, onExisting: 'update' }))
    expect(r.logger.of('error')).toEqual([])
    const { findings, written } = checkRequests(e)
    expect(findings).toEqual([])
    expect(written).toEqual(expect.arrayContaining(['deviceImages.update', 'deviceImages.retryUpload']))
  })

  it('a roll-out to a provisioning policy, with its Cloud PC reprovisioned', async () => {
    const e = await start({
      defaultUpload: [{ pendingMs: 100, outcome: 'ready' }],
      policies: [{ id: POLICY_ID, displayName: 'Developers' }],
      cloudPcs: [{ id: PC_ID, displayName: 'CPC-1', userPrincipalName: 'ana@contoso.example', provisioningPolicyId: POLICY_ID }]
    })
    const r = await runInProcess(baseInputs(e, { provisioningPolicyIds: POLICY_ID, reprovision: 'true' }))
    expect(r.logger.of('error')).toEqual([])
    const { findings, written } = checkRequests(e)
    expect(findings).toEqual([])
    expect(written).toEqual(expect.arrayContaining(['deviceImages.create', 'policies.update', 'cloudPcs.reprovision']))
  })
})
