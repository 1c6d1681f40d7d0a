// The source-image preflight against the emulator's Azure Resource Manager: each documented check
// passing and failing for a managed image and a gallery version, what happens when the checks
// cannot run (auto, true, false), the dry run, and ARM outages on the shared retry path.

import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { type ArmClient, interpretArmAnswer } from '../src/http/arm-client.js'
import { parseInputs } from '../src/inputs.js'
import { runPreflight } from '../src/preflight/preflight.js'
import { newReport } from '../src/report/run-report.js'
import { FakeClock } from './helpers/fake-clock.js'
import { RecordingLogger } from './helpers/recording-logger.js'
import { baseInputs, runInProcess, SOURCE } from './helpers/run-in-process.js'

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute'
const DEFINITION = `${SUB}/galleries/gallery1/images/win11-dev`
const VERSION = `${DEFINITION}/versions/1.4.0`

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({ defaultUpload: [{ pendingMs: 50, outcome: 'ready' }], ...options })
  return emulator
}

const armReads = (e: Emulator) => e.requests.filter(r => r.route.startsWith('arm.'))
const tokenScopes = (e: Emulator) =>
  e.requests.filter(r => r.route === 'token').map(r => new URLSearchParams(r.body).get('scope'))

describe('preflight of a managed image', () => {
  it('reads the image once with an ARM token and passes every check', async () => {
    const e = await start()
    const r = await runInProcess(baseInputs(e))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    const reads = armReads(e)
    expect(reads.map(x => [x.route, x.path, x.query['api-version'], x.status])).toEqual([
      ['arm.images.get', SOURCE, '2024-07-01', 200]
    ])
    expect(tokenScopes(e)).toEqual(expect.arrayContaining([`${e.url}/.default`, `${e.armUrl}/.default`]))
    // The ARM token went to ARM only, and it was masked.
    const armToken = reads[0].headers.authorization.replace(/^Bearer /, '')
    expect(r.secrets).toContain(armToken)
    expect(e.requests.filter(x => !x.route.startsWith('arm.') && x.headers.authorization === `Bearer ${armToken}`)).toEqual([])
    expect(r.report.preflight!.checks.map(c => [c.name, c.passed])).toEqual([
      ['Windows', true],
      ['Generalized', true],
      ['Generation 2', true],
      ['No data disks', true],
      ['No disk encryption set', true]
    ])
    expect(r.logger.text()).toContain('✓ Generation 2: hyperVGeneration V2.')
    expect(r.summary).toContain('Source image checks')
    // The checks ran before the first Graph write.
    const create = e.requests.find(x => x.route === 'deviceImages.create')!
    expect(reads[0].seq).toBeLessThan(create.seq)
  })

  it.each([
    ['Windows', { storageProfile: { osDisk: { osType: 'Linux' } } }, 'osType Linux', 'osVersionNotSupported'],
    [
      'Generalized',
      { storageProfile: { osDisk: { osState: 'Specialized' } } },
      'osState Specialized',
      'sourceImageNotGeneralized'
    ],
    ['Generation 2', { hyperVGeneration: 'V1' }, 'hyperVGeneration V1', 'sourceImageInvalid'],
    [
      'No data disks',
      { storageProfile: { dataDisks: [{ lun: 0, diskSizeGB: 128, caching: 'None', storageAccountType: 'Premium_LRS' }] } },
      '1 data disk',
      'sourceImageWithDataDiskNotSupported'
    ],
    [
      'No disk encryption set',
      { storageProfile: { osDisk: { diskEncryptionSet: { id: `${SUB}/diskEncryptionSets/des1` } } } },
      'disk encryption set on the OS disk',
      'sourceImageWithDiskEncryptionSetNotSupported'
    ]
  ])(
    'fails %s before any write, naming the requirement, what ARM reports and the errorCode',
    async (name, properties, reported, code) => {
      const e = await start({ armResources: [{ id: SOURCE, properties }] })
      const r = await runInProcess(baseInputs(e))
      expect(r.code).toBe(1)
      expect(e.writes()).toEqual([])
      const [error] = r.logger.of('error')
      expect(error.title).toBe(`Source image check failed: ${name}`)
      expect(error.message).toContain(`${name}: Windows 365 requires`)
      expect(error.message).toContain(`Azure Resource Manager reports ${reported}`)
      expect(error.message).toContain(`the upload would fail with ${code}. Fix:`)
      expect(error.message).toContain('Nothing was created or changed.')
      expect(r.report.preflight!.checks.filter(c => !c.passed).map(c => c.name)).toEqual([name])
      expect(r.summary).toContain('❌ failed')
      expect(r.outputs.imageId).toBeUndefined()
    }
  )

  it('fails a source image ARM does not know with the errorCode the upload would give', async () => {
    const e = await start({ armResources: [{ id: SOURCE, answer: 404 }] })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    expect(e.writes()).toEqual([])
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Source image check failed: Exists',
      message: expect.stringContaining('the upload would fail with sourceImageNotFound')
    })
  })
})

describe('preflight of an Azure Compute Gallery version', () => {
  it('reads the version and its image definition and passes every check', async () => {
    const e = await start()
    const r = await runInProcess(baseInputs(e, { sourceImageResourceId: VERSION }))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(armReads(e).map(x => [x.route, x.path, x.query['api-version']])).toEqual([
      ['arm.galleryImageVersions.get', VERSION, '2023-07-03'],
      ['arm.galleryImages.get', DEFINITION, '2023-07-03']
    ])
    expect(r.report.preflight!.checks.map(c => [c.name, c.passed])).toEqual([
      ['Windows', true],
      ['Generalized', true],
      ['Generation 2', true],
      ['x64', true],
      ['Trusted Launch', true],
      ['No data disks', true],
      ['No disk encryption set', true]
    ])
  })

  it.each([
    ['Windows', DEFINITION, { osType: 'Linux' }, 'osType Linux', 'osVersionNotSupported'],
    ['Generalized', DEFINITION, { osState: 'Specialized' }, 'osState Specialized', 'sourceImageNotGeneralized'],
    ['Generation 2', DEFINITION, { hyperVGeneration: 'V1' }, 'hyperVGeneration V1', 'sourceImageInvalid'],
    ['x64', DEFINITION, { architecture: 'Arm64' }, 'architecture Arm64', 'sourceImageInvalid'],
    [
      'Trusted Launch',
      DEFINITION,
      { features: [{ name: 'SecurityType', value: 'Standard' }] },
      'SecurityType Standard',
      'sourceImageInvalid'
    ],
    ['Trusted Launch', DEFINITION, { features: [] }, 'SecurityType nothing', 'sourceImageInvalid'],
    [
      'No data disks',
      VERSION,
      { storageProfile: { dataDiskImages: [{ lun: 0, sizeInGB: 64, hostCaching: 'None' }] } },
      '1 data disk',
      'sourceImageWithDataDiskNotSupported'
    ],
    [
      'No disk encryption set',
      VERSION,
      {
        publishingProfile: {
          targetRegions: [
            { name: 'West Europe', regionalReplicaCount: 1, storageAccountType: 'Standard_LRS' },
            {
              name: 'North Europe',
              regionalReplicaCount: 1,
              storageAccountType: 'Standard_LRS',
              encryption: { osDiskImage: { diskEncryptionSetId: `${SUB}/diskEncryptionSets/des1` } }
            }
          ]
        }
      },
      'disk encryption set on the replica in North Europe',
      'sourceImageWithDiskEncryptionSetNotSupported'
    ]
  ])('fails %s (%s) before any write', async (name, id, properties, reported, code) => {
    const e = await start({ armResources: [{ id, properties }] })
    const r = await runInProcess(baseInputs(e, { sourceImageResourceId: VERSION }))
    expect(r.code).toBe(1)
    expect(e.writes()).toEqual([])
    const [error] = r.logger.of('error')
    expect(error.title).toBe(`Source image check failed: ${name}`)
    expect(error.message).toContain(`Azure Resource Manager reports ${reported}; the upload would fail with ${code}.`)
  })

  it('fails a gallery version whose image definition does not exist', async () => {
    const e = await start({ armResources: [{ id: DEFINITION, answer: 404 }] })
    const r = await runInProcess(baseInputs(e, { sourceImageResourceId: VERSION }))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0].message).toContain(`no resource ${DEFINITION} (404)`)
  })
})

describe('when the checks cannot run', () => {
  it('auto: a 403 skips them with one notice naming the role, and the publish goes on', async () => {
    const e = await start({ knobs: { armAccess: 'forbidden' } })
    const r = await runInProcess(baseInputs(e))
    expect(r.logger.of('error')).toEqual([])
    expect(r.code).toBe(0)
    expect(e.writes().map(w => w.route)).toEqual(['deviceImages.create'])
    const notices = r.logger.of('notice').filter(n => n.title === 'Source image not checked')
    expect(notices).toHaveLength(1)
    expect(notices[0].message).toContain(
      'The source image was not checked (Windows, generalized, generation 2, no data disks, no disk encryption set)'
    )
    expect(notices[0].message).toContain('AuthorizationFailed')
    expect(notices[0].message).toContain(
      'Give the app registration the Reader role on the image, its resource group or its subscription'
    )
    expect(r.report.preflight).toMatchObject({ mode: 'auto', checks: [] })
    expect(r.summary).toContain('The source image was not checked')
  })

  it('true: a 403 fails the step before any write', async () => {
    const e = await start({ knobs: { armAccess: 'forbidden' } })
    const r = await runInProcess(baseInputs(e, { preflight: 'true' }))
    expect(r.code).toBe(1)
    expect(e.writes()).toEqual([])
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Preflight could not run',
      message: expect.stringContaining('preflight is true, so nothing was published.')
    })
  })

  it('auto: a subscription in another tenant is a check that cannot run, said so', async () => {
    const e = await start({ knobs: { armAccess: 'otherTenant' } })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(r.logger.of('notice').find(n => n.title === 'Source image not checked')!.message).toContain(
      'its subscription belongs to another Entra tenant'
    )
  })

  it('false: no ARM token and no ARM request', async () => {
    const e = await start({ armResources: [{ id: SOURCE, properties: { hyperVGeneration: 'V1' } }] })
    const r = await runInProcess(baseInputs(e, { preflight: 'false' }))
    expect(r.code).toBe(0)
    expect(armReads(e)).toEqual([])
    expect(tokenScopes(e)).toEqual([`${e.url}/.default`])
    expect(r.report.preflight).toBeUndefined()
  })

  it('accessToken gives no ARM token: auto says so, true fails', async () => {
    const e = await start()
    const accessToken = e.issueToken()
    const inputs = { tenantId: '', clientId: '', clientSecret: '', accessToken }
    const auto = await runInProcess(baseInputs(e, inputs))
    expect(auto.code).toBe(0)
    expect(auto.logger.of('notice').find(n => n.title === 'Source image not checked')!.message).toContain(
      'accessToken signs in to Microsoft Graph only'
    )
    expect(armReads(e)).toEqual([])
    const required = await runInProcess(baseInputs(e, { ...inputs, preflight: 'true' }))
    expect(required.code).toBe(1)
    expect(required.logger.of('error')[0].title).toBe('Preflight could not run')
  })

  it('rides out an ARM outage on the shared retry path, then checks', async () => {
    const e = await start({
      faults: [{ path: /Microsoft\.Compute\/images\//, times: 3, fault: { kind: 'status', status: 503 } }]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(armReads(e).map(x => x.status)).toEqual([503, 503, 503, 200])
    expect(r.report.preflight!.checks).toHaveLength(5)
  })

  it('auto: an outage that outlasts the preflight budget, or an ARM host that refuses connections, is not a verdict', async () => {
    const clock = new FakeClock()
    const e = await start({
      now: () => clock.now(),
      faults: [{ path: /Microsoft\.Compute\/images\//, times: Infinity, fault: { kind: 'status', status: 503 } }]
    })
    const down = await runInProcess(baseInputs(e), {
      clock,
      retry: { baseDelayMs: 1000, maxDelayMs: 30_000, stepBudgetMs: 600_000 }
    })
    expect(down.code).toBe(0)
    expect(down.logger.of('notice').find(n => n.title === 'Source image not checked')!.message).toMatch(
      /Azure Resource Manager at http:\/\/127\.0\.0\.1:\d+ could not be read in time/
    )
    // Bounded by the two-minute preflight budget, not the ten-minute step budget.
    const reads = armReads(e)
    expect(reads[reads.length - 1].time - reads[0].time).toBeLessThanOrEqual(2 * 60_000)

    const refused = await runInProcess(baseInputs(e, { armEndpoint: 'http://127.0.0.1:1' }), {
      clock,
      retry: { baseDelayMs: 1000, maxDelayMs: 30_000, stepBudgetMs: 600_000 }
    })
    expect(refused.code).toBe(0)
    expect(refused.logger.of('notice').find(n => n.title === 'Source image not checked')!.message).toContain(
      'could not be read in time'
    )
  })
})

describe('preflight in a dry run', () => {
  it('runs the checks and shows them with the plan', async () => {
    const e = await start()
    const r = await runInProcess(baseInputs(e, { dryRun: 'true' }))
    expect(r.code).toBe(0)
    expect(e.writes()).toEqual([])
    expect(armReads(e)).toHaveLength(1)
    expect(r.report.preflight!.checks.every(c => c.passed)).toBe(true)
    expect(r.summary).toContain('Source image checks')
  })

  it('fails on a source the service would refuse', async () => {
    const e = await start({
      armResources: [{ id: SOURCE, properties: { storageProfile: { osDisk: { osState: 'Specialized' } } } }]
    })
    const r = await runInProcess(baseInputs(e, { dryRun: 'true' }))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0].title).toBe('Source image check failed: Generalized')
  })
})

describe('what a check that cannot run says', () => {
  const settingsFor = (preflight: string) => {
    const parsed = parseInputs(name => ({ ...baseInputs('http://127.0.0.1:1'), preflight })[name] ?? '')
    if (!parsed.ok) throw new Error('bad test inputs')
    return parsed.settings
  }

  it('an ARM host that does not resolve is "could not be reached", not a missing token', async () => {
    // The suite may not look up a public name (loopback only), so the answer of such a host is
    // what the ARM client makes of it: the unreachable error its reads end with.
    const arm = { get: async () => Promise.reject(interpretUnresolved()) } as unknown as ArmClient
    const report = newReport(0)
    const logger = new RecordingLogger()
    await runPreflight(settingsFor('auto'), report, { arm, clock: new FakeClock(), logger })
    expect(report.preflight!.notRun).toContain('Azure Resource Manager at https://management.azure.com could not be reached: GET')
    expect(report.preflight!.notRun).toContain('ENOTFOUND management.azure.con')
    expect(report.preflight!.notRun).not.toContain('no token')
  })

  it('a token the authority refuses for the ARM scope is said to be missing', async () => {
    const e = await start({
      // The first token request is Graph's; the second, for ARM, is refused.
      faults: [
        { method: 'POST', path: /oauth2\/v2\.0\/token$/, skip: 1, fault: { kind: 'status', status: 400, code: 'invalid_scope' } }
      ]
    })
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(r.logger.of('notice').find(n => n.title === 'Source image not checked')!.message).toContain(
      `no token for ${e.armUrl}: The token endpoint answered HTTP 400`
    )
    expect(armReads(e)).toEqual([])
  })
})

function interpretUnresolved(): Error {
  const tried = interpretArmAnswer(
    '/x?api-version=1',
    { kind: 'network', error: 'unresolved', message: 'getaddrinfo ENOTFOUND management.azure.con' },
    'id'
  )
  if (tried.kind !== 'failed') throw new Error('expected a failure')
  return tried.error()
}
