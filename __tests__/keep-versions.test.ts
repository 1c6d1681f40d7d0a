// keepVersions against the emulator: what retention deletes after a success, how it makes room in a
// full tenant, and how it behaves when deletes are lost, refused or fail.
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, type SeedImage, startEmulator } from '../emulator/index.js'
import { baseInputs, runInProcess, SOURCE } from './helpers/run-in-process.js'

const POLICY = '22222222-bbbb-4bbb-8bbb-222222222222'
const OTHER_POLICY = '33333333-cccc-4ccc-8ccc-333333333333'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

let seq = 0
/** An image of this displayName (or another), with an ID that says its version. */
function seed(version: string, extra: Partial<SeedImage> = {}): SeedImage & { id: string } {
  seq++
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(4, '0')}${version.replace(/\D/g, '').padStart(8, '0')}`,
    displayName: 'Win11-Dev',
    version,
    sourceImageResourceId: SOURCE.replace(/win11-dev$/, `win11-dev-${version}`),
    status: 'ready',
    ...extra
  }
}

/** Images of other names, to fill the tenant. */
const others = (count: number): SeedImage[] =>
  Array.from({ length: count }, (_, i) => seed('1.0.0', { displayName: `Other-${i}` }))

async function start(images: SeedImage[], options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({ images, defaultUpload: [{ pendingMs: 100, outcome: 'ready' }], ...options })
  return emulator
}

const writes = (e: Emulator) =>
  e.writes().map(w => `${w.method} ${w.route}${w.method === 'DELETE' ? ` ${w.path.split('/').pop()}` : ''}`)
const versionsLeft = (e: Emulator) =>
  e
    .images()
    .filter(i => i.displayName?.toLowerCase() === 'win11-dev')
    .map(i => i.version)
    .sort()
const deleted = (r: { outputs: Record<string, string> }) => JSON.parse(r.outputs.deletedImageIds) as string[]

describe('keepVersions after a successful publish', () => {
  it('keeps the newest versions, ordered as numbers, and deletes the older ones, oldest first', async () => {
    const old = [seed('1.2.0'), seed('1.9.0'), seed('1.2.10')]
    const e = await start(old)
    const r = await runInProcess(baseInputs(e, { version: '1.10.0', keepVersions: '2' }))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual([
      'POST deviceImages.create',
      `DELETE deviceImages.delete ${old[0].id}`,
      `DELETE deviceImages.delete ${old[2].id}`
    ])
    expect(versionsLeft(e)).toEqual(['1.10.0', '1.9.0'])
    expect(deleted(r)).toEqual([old[0].id, old[2].id])
    // One log line per deletion, naming the image and why.
    const lines = r.logger.of('info').map(l => l.message)
    expect(lines.filter(l => l.startsWith('Deleted image'))).toEqual([
      `Deleted image "Win11-Dev" 1.2.0 (${old[0].id}): older than the 2 newest versions, and no provisioning policy uses it.`,
      `Deleted image "Win11-Dev" 1.2.10 (${old[2].id}): older than the 2 newest versions, and no provisioning policy uses it.`
    ])
    expect(r.summary).toContain('<h3>Retention</h3>')
    expect(r.summary).toContain('With keepVersions 2: deleted 2, kept 2.')
  })

  it("deletes only images of exactly the displayName, never another team's that differs in case or spacing", async () => {
    const e = await start([
      seed('1.0.0'),
      seed('1.0.0', { displayName: 'WIN11-DEV', sourceImageResourceId: `${SOURCE}-finance` }),
      seed('1.1.0', { displayName: 'Win11-Dev ', sourceImageResourceId: `${SOURCE}-finance` }),
      seed('1.0.0', { displayName: 'Win11-Dev-Old' })
    ])
    const r = await runInProcess(baseInputs(e, { keepVersions: '1' }))
    expect(r.code).toBe(0)
    expect(
      e
        .images()
        .map(i => `${i.displayName}|${i.version}`)
        .sort()
    ).toEqual(['WIN11-DEV|1.0.0', 'Win11-Dev |1.1.0', 'Win11-Dev-Old|1.0.0', 'Win11-Dev|1.4.0'])
    expect(deleted(r)).toHaveLength(1)
  })

  it('keeps an older image a provisioning policy uses, and names the policy', async () => {
    const used = seed('1.1.0')
    const unused = seed('1.0.0')
    const e = await start([used, unused], { policies: [{ id: OTHER_POLICY, displayName: 'Berlin', imageId: used.id }] })
    const r = await runInProcess(baseInputs(e, { keepVersions: '1' }))
    expect(r.code).toBe(0)
    expect(deleted(r)).toEqual([unused.id])
    expect(versionsLeft(e)).toEqual(['1.1.0', '1.4.0'])
    expect(r.logger.of('info').map(l => l.message)).toContain(
      `Kept image "Win11-Dev" 1.1.0 (${used.id}): in use by policy "Berlin" (${OTHER_POLICY}).`
    )
    expect(r.summary).toContain('1 kept because a provisioning policy uses it')
  })

  it('deletes the image a rolled-out policy used before: the policies are read after the roll-out', async () => {
    const before = seed('1.3.0')
    const e = await start([before], { policies: [{ id: POLICY, displayName: 'Paris', imageId: before.id }] })
    const r = await runInProcess(baseInputs(e, { keepVersions: '1', provisioningPolicyIds: POLICY }))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual(['POST deviceImages.create', 'PATCH policies.update', `DELETE deviceImages.delete ${before.id}`])
    expect(deleted(r)).toEqual([before.id])
  })

  it('never deletes a version higher than the published one', async () => {
    const higher = seed('2.0.0')
    const lower = seed('1.0.0')
    const e = await start([higher, lower])
    const r = await runInProcess(baseInputs(e, { keepVersions: '1' }))
    expect(r.code).toBe(0)
    expect(deleted(r)).toEqual([lower.id])
    expect(versionsLeft(e)).toEqual(['1.4.0', '2.0.0'])
    const row = r.report.retention!.entries.find(x => x.id === higher.id)!
    expect(row).toMatchObject({ outcome: 'kept', why: 'among the 1 newest version (keepVersions: 1)' })
  })

  it('deletes a failed image of an older version like the others', async () => {
    const failed = seed('1.3.0', { status: 'failed', errorCode: 'sourceImageNotGeneralized' })
    const e = await start([seed('1.3.5'), failed])
    const r = await runInProcess(baseInputs(e, { keepVersions: '2' }))
    expect(r.code).toBe(0)
    expect(deleted(r)).toEqual([failed.id])
  })

  it('keeps everything without keepVersions, and says nothing of retention', async () => {
    const e = await start([seed('1.0.0'), seed('1.1.0')])
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual(['POST deviceImages.create'])
    expect(r.outputs.deletedImageIds).toBe('[]')
    expect(r.summary).not.toContain('Retention')
  })
})

describe('keepVersions in a full tenant', () => {
  it('deletes exactly one image before the create, the oldest retention would delete anyway', async () => {
    const family = [seed('1.2.0'), seed('1.0.0'), seed('1.1.0')]
    const e = await start([...others(17), ...family])
    const r = await runInProcess(baseInputs(e, { keepVersions: '2' }))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual([
      `DELETE deviceImages.delete ${family[1].id}`,
      'POST deviceImages.create',
      `DELETE deviceImages.delete ${family[2].id}`
    ])
    expect(deleted(r)).toEqual([family[1].id, family[2].id])
    expect(r.report.retention!.entries.filter(x => x.toMakeRoom).map(x => x.id)).toEqual([family[1].id])
    expect(r.logger.of('info').map(l => l.message)).toContainEqual(
      expect.stringMatching(/^Deleted image "Win11-Dev" 1\.0\.0 .* to make room: .*the tenant held 20 of the 20 images/)
    )
    expect(r.summary).toContain('deleted 2 (1 to make room)')
  })

  it('fails before any write when retention may delete none of the images', async () => {
    const family = [seed('1.2.0'), seed('1.1.0')]
    const e = await start([...others(18), ...family], { policies: [{ displayName: 'Lyon', imageId: family[1].id }] })
    const r = await runInProcess(baseInputs(e, { keepVersions: '2' }))
    expect(r.code).toBe(1)
    expect(e.writes()).toEqual([])
    const [error] = r.logger.of('error')
    expect(error.title).toBe('Tenant image limit reached')
    expect(error.message).toContain('keepVersions is 2, but no image of "Win11-Dev" may be deleted to make room (1 must go)')
    expect(error.message).toContain('Nothing was deleted.')
    expect(r.outputs.deletedImageIds).toBe('[]')
  })

  it('suggests keepVersions when it is not set', async () => {
    const e = await start([...others(19), seed('1.0.0')])
    const r = await runInProcess(baseInputs(e))
    expect(r.code).toBe(1)
    expect(e.writes()).toEqual([])
    expect(r.logger.of('error')[0].message).toMatch(/Or set keepVersions \(for example 3\)/)
  })

  it('fails before the create when the delete that makes room fails', async () => {
    const e = await start([...others(19), seed('1.0.0')], {
      faults: [{ method: 'DELETE', fault: { kind: 'status', status: 403, code: 'Forbidden' } }]
    })
    const r = await runInProcess(baseInputs(e, { keepVersions: '1' }))
    expect(r.code).toBe(1)
    expect(writes(e).filter(w => w.startsWith('POST'))).toEqual([])
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Could not make room',
      message: expect.stringContaining('No image was created')
    })
  })
})

describe('keepVersions under faults', () => {
  it('settles a DELETE whose answer was lost by reading: it took effect', async () => {
    const old = seed('1.0.0')
    const e = await start([old], { faults: [{ method: 'DELETE', fault: { kind: 'commitThenDrop' } }] })
    const r = await runInProcess(baseInputs(e, { keepVersions: '1' }))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual(['POST deviceImages.create', `DELETE deviceImages.delete ${old.id}`])
    expect(deleted(r)).toEqual([old.id])
    expect(r.logger.of('warning')).toEqual([])
  })

  it('settles a DELETE whose answer was lost by reading: it did not, so it is sent again', async () => {
    const old = seed('1.0.0')
    const e = await start([old], { faults: [{ method: 'DELETE', fault: { kind: 'drop' } }] })
    const r = await runInProcess(baseInputs(e, { keepVersions: '1' }))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual([
      'POST deviceImages.create',
      `DELETE deviceImages.delete ${old.id}`,
      `DELETE deviceImages.delete ${old.id}`
    ])
    expect(deleted(r)).toEqual([old.id])
  })

  it('keeps an image a policy started using after it was listed, and says so', async () => {
    const old = seed('1.0.0')
    const e = await start([old], { policies: [{ id: OTHER_POLICY, displayName: 'Rome' }] })
    // Another administrator points a policy at the old image just before the action deletes it.
    e.before({ method: 'DELETE' }, emu => emu.pointPolicy(OTHER_POLICY, old.id))
    const r = await runInProcess(baseInputs(e, { keepVersions: '1' }))
    expect(r.code).toBe(0)
    expect(deleted(r)).toEqual([])
    expect(versionsLeft(e)).toEqual(['1.0.0', '1.4.0'])
    expect(r.logger.of('warning')).toEqual([])
    expect(r.logger.of('info').map(l => l.message)).toContainEqual(
      expect.stringContaining(`refused the delete, as a provisioning policy started using it: "Rome" (${OTHER_POLICY})`)
    )
    expect(r.report.retention!.entries.find(x => x.id === old.id)).toMatchObject({ outcome: 'kept', inUse: true })
  })

  it('warns, naming the image, when a delete fails, and the step still succeeds', async () => {
    const old = seed('1.0.0')
    const kept = seed('1.1.0')
    const e = await start([old, kept], {
      faults: [
        { method: 'DELETE', path: new RegExp(`deviceImages/${old.id}$`), fault: { kind: 'status', status: 500 }, times: 3 }
      ]
    })
    const r = await runInProcess(baseInputs(e, { keepVersions: '1' }))
    expect(r.code).toBe(0)
    expect(deleted(r)).toEqual([kept.id])
    const [warning] = r.logger.of('warning')
    expect(warning.title).toBe('Old image not deleted')
    expect(warning.message).toContain(old.id)
    expect(r.summary).toContain('could not delete 1')
  })

  it('stops deleting when the run is cancelled, and says what was deleted', async () => {
    const first = seed('1.0.0')
    const second = seed('1.1.0')
    const e = await start([first, second])
    const cancel = new AbortController()
    // The runner cancels the job while the second delete is on its way.
    e.before({ method: 'DELETE', path: new RegExp(`${second.id}$`) }, () => cancel.abort())
    const r = await runInProcess(baseInputs(e, { keepVersions: '1' }), { signal: cancel.signal })
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0]).toMatchObject({
      title: 'Cancelled',
      message: expect.stringContaining(
        'cancelled during retention, after the publish and roll-out succeeded: 1 of 2 old versions'
      )
    })
    expect(r.logger.of('error')[0].message).toContain(`The delete of image "Win11-Dev" 1.1.0 (${second.id}) was under way`)
    expect(deleted(r)).toEqual([first.id])
    expect(r.outputs.status).toBe('ready')
  })

  it('deletes nothing when the upload fails', async () => {
    const e = await start([seed('1.0.0')], {
      defaultUpload: [{ pendingMs: 50, outcome: 'failed', errorCode: 'sourceImageNotGeneralized' }]
    })
    const r = await runInProcess(baseInputs(e, { keepVersions: '1' }))
    expect(r.code).toBe(1)
    expect(writes(e)).toEqual(['POST deviceImages.create'])
    expect(r.outputs.deletedImageIds).toBe('[]')
    expect(r.summary).toContain('Nothing was deleted after the publish')
  })

  it('deletes nothing when the roll-out fails', async () => {
    const e = await start([seed('1.0.0')], {
      policies: [{ id: POLICY, displayName: 'Paris' }],
      faults: [{ method: 'PATCH', fault: { kind: 'status', status: 400, code: 'BadRequest' } }]
    })
    const r = await runInProcess(baseInputs(e, { keepVersions: '1', provisioningPolicyIds: POLICY }))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')[0].title).toBe('Roll-out incomplete')
    expect(writes(e)).toEqual(['POST deviceImages.create', 'PATCH policies.update'])
    expect(r.outputs.deletedImageIds).toBe('[]')
  })

  it('deletes nothing after a publish it did not wait for', async () => {
    const e = await start([seed('1.0.0')])
    const r = await runInProcess(baseInputs(e, { keepVersions: '1', wait: 'false' }))
    expect(r.code).toBe(0)
    expect(writes(e)).toEqual(['POST deviceImages.create'])
    expect(r.logger.of('notice')).toContainEqual(expect.objectContaining({ title: 'Retention not run' }))
  })
})

describe('keepVersions in a dry run', () => {
  it('lists what it would delete now and after a success, and deletes nothing', async () => {
    const family = [seed('1.2.0'), seed('1.0.0'), seed('1.1.0'), seed('1.3.0')]
    const e = await start([...others(16), ...family], { policies: [{ id: POLICY, displayName: 'Paris', imageId: family[3].id }] })
    const r = await runInProcess(baseInputs(e, { keepVersions: '1', dryRun: 'true', provisioningPolicyIds: POLICY }))
    expect(r.code).toBe(0)
    expect(e.writes()).toEqual([])
    expect(r.outputs.deletedImageIds).toBe('[]')
    const planned = r.report.retention!.entries.filter(x => x.outcome === 'would delete')
    // Now: the oldest, to make room; 1.3.0 is in use. After a success: the rest, 1.3.0 included,
    // which the policy no longer uses once it is rolled out.
    expect(planned.map(x => [x.version, x.toMakeRoom])).toEqual([
      ['1.0.0', true],
      ['1.1.0', false],
      ['1.2.0', false],
      ['1.3.0', false]
    ])
    expect(r.report.plan.join('\n')).toMatch(/Delete "Win11-Dev" 1\.0\.0 .* first, to make room/)
    expect(r.summary).toContain('would delete 1 now to make room and 3 after a success')
  })
})
