import { describe, expect, it } from '@jest/globals'
import { type DeviceImage, type ProvisioningPolicy } from '../src/graph/model.js'
import {
  compareVersions,
  decideRetention,
  describeDecision,
  parseVersion,
  planRoom,
  type RetentionInput,
  toDelete
} from '../src/retention/decide.js'

let n = 0
function image(version: string, extra: Partial<DeviceImage> = {}): DeviceImage {
  n++
  return {
    id: `img-${version}-${n}`,
    displayName: 'Win11-Dev',
    version,
    sourceImageResourceId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/images/win11',
    status: 'ready',
    errorCode: null,
    ...extra
  }
}

const policy = (id: string, imageId: string): ProvisioningPolicy => ({ id, displayName: `Policy ${id}`, imageId })

function decide(
  images: DeviceImage[],
  published: DeviceImage | string,
  keepVersions: number,
  policies: ProvisioningPolicy[] = []
) {
  const input: RetentionInput = {
    images,
    displayName: 'Win11-Dev',
    published: typeof published === 'string' ? { version: published } : { id: published.id, version: published.version },
    keepVersions,
    policies
  }
  const decisions = decideRetention(input)
  return {
    decisions,
    reasons: Object.fromEntries(decisions.map(d => [d.image.version, d.reason])),
    deleted: toDelete(decisions).map(i => i.version)
  }
}

describe('versions', () => {
  it('are compared as numbers, part by part', () => {
    const v = (s: string) => parseVersion(s)!
    expect(compareVersions(v('1.2.10'), v('1.2.3'))).toBeGreaterThan(0)
    expect(compareVersions(v('1.10.0'), v('1.9.9'))).toBeGreaterThan(0)
    expect(compareVersions(v('10.0.0'), v('9.99.99'))).toBeGreaterThan(0)
    expect(compareVersions(v('1.2.3'), v('1.2.3'))).toBe(0)
    expect(compareVersions(v('1.2.3'), v('1.3.0'))).toBeLessThan(0)
    expect(compareVersions(v('0.0.1'), v('0.0.0'))).toBeGreaterThan(0)
  })

  it('read major.minor.patch only', () => {
    expect(parseVersion('1.2.3')).toEqual([1, 2, 3])
    expect(parseVersion(' 01.2.3 ')).toEqual([1, 2, 3])
    for (const bad of ['1.2', '1.2.3.4', 'v1.2.3', '1.2.x', '', '2024-01', 'a1.2.3', '1.2.3b', null, 7])
      expect(parseVersion(bad)).toBeUndefined()
  })
})

describe('retention', () => {
  it('keeps the newest versions by number, the published one counted, and deletes the older ones oldest first', () => {
    const published = image('1.10.0')
    const images = ['1.2.3', '1.9.0', '1.2.10', '1.10.0', '1.3.0'].map(v => (v === '1.10.0' ? published : image(v)))
    const r = decide(images, published, 2)
    expect(r.decisions.map(d => d.image.version)).toEqual(['1.10.0', '1.9.0', '1.3.0', '1.2.10', '1.2.3'])
    expect(r.reasons).toEqual({ '1.10.0': 'published', '1.9.0': 'newest', '1.3.0': 'older', '1.2.10': 'older', '1.2.3': 'older' })
    expect(r.deleted).toEqual(['1.2.3', '1.2.10', '1.3.0'])
  })

  it('keeps only the published one with keepVersions 1', () => {
    const published = image('2.0.0')
    expect(decide([image('1.0.0'), published, image('1.5.0')], published, 1).deleted).toEqual(['1.0.0', '1.5.0'])
  })

  it('takes the images of exactly this displayName: another case or spacing may be another team', () => {
    const published = image('3.0.0')
    const images = [
      published,
      image('1.0.0'),
      image('1.0.0', { displayName: 'WIN11-DEV' }),
      image('2.0.0', { displayName: ' win11-dev ' }),
      image('2.0.0', { displayName: 'Win11-Dev ' }),
      image('1.0.0', { displayName: 'Win11-Dev-Old' }),
      image('1.0.0', { displayName: 'Win11' })
    ]
    const r = decide(images, published, 1)
    expect(r.decisions.map(d => d.image.displayName)).toEqual(['Win11-Dev', 'Win11-Dev'])
    expect(r.deleted).toEqual(['1.0.0'])
  })

  it('keeps an older image a provisioning policy uses, and names the policy', () => {
    const published = image('3.0.0')
    const used = image('1.0.0')
    const r = decide([published, used, image('2.0.0')], published, 1, [policy('p1', used.id.toUpperCase())])
    expect(r.reasons['1.0.0']).toBe('inUse')
    expect(r.deleted).toEqual(['2.0.0'])
    const inUse = r.decisions.find(d => d.reason === 'inUse')!
    expect(inUse.usedBy.map(p => p.id)).toEqual(['p1'])
    expect(describeDecision(inUse, 1, '3.0.0')).toBe('in use by policy "Policy p1" (p1)')
  })

  it('never deletes a version higher than the published one, even past keepVersions', () => {
    const published = image('1.4.0')
    const r = decide([image('2.0.0'), image('1.5.0'), published, image('1.3.0')], published, 1)
    expect(r.reasons).toEqual({ '2.0.0': 'newest', '1.5.0': 'notOlder', '1.4.0': 'published', '1.3.0': 'older' })
    expect(r.deleted).toEqual(['1.3.0'])
  })

  it('keeps a second image of the published version', () => {
    const published = image('1.4.0')
    const twin = image('1.4.0')
    const r = decide([image('2.0.0'), twin, published], published, 1)
    expect(r.decisions.find(d => d.image === twin)!.reason).toBe('notOlder')
    expect(r.deleted).toEqual([])
  })

  it('deletes a failed image of an older version like the others', () => {
    const published = image('1.2.0')
    const r = decide(
      [published, image('1.1.0'), image('1.0.0', { status: 'failed', errorCode: 'sourceImageInvalid' })],
      published,
      2
    )
    expect(r.deleted).toEqual(['1.0.0'])
  })

  it('counts an image listed twice under one version as one version', () => {
    const published = image('3.0.0')
    const r = decide([published, image('2.0.0'), image('2.0.0'), image('1.0.0')], published, 2)
    expect(r.deleted).toEqual(['1.0.0'])
  })

  it('keeps images whose version it cannot order', () => {
    const published = image('3.0.0')
    const r = decide([image('2024-01'), published, image('1.0.0')], published, 1)
    expect(r.decisions.map(d => [d.image.version, d.reason])).toEqual([
      ['3.0.0', 'published'],
      ['1.0.0', 'older'],
      ['2024-01', 'unknownVersion']
    ])
  })

  it('counts a published version that does not exist yet', () => {
    const r = decide([image('1.0.0'), image('1.1.0')], '1.2.0', 2)
    expect(r.reasons).toEqual({ '1.1.0': 'newest', '1.0.0': 'older' })
  })

  it('refuses a published version that is not major.minor.patch', () => {
    expect(() => decide([image('1.0.0')], 'v1', 1)).toThrow('"v1" is not major.minor.patch')
  })

  it('says why in words', () => {
    const [d] = decide([image('1.0.0')], '2.0.0', 3).decisions
    expect(describeDecision(d, 3, '2.0.0')).toBe('among the 3 newest versions (keepVersions: 3)')
    expect(describeDecision({ ...d, reason: 'older' }, 1, '2.0.0')).toBe(
      'older than the 1 newest version, and no provisioning policy uses it'
    )
    expect(describeDecision({ ...d, reason: 'notOlder' }, 1, '2.0.0')).toBe('not older than the published version 2.0.0')
    expect(describeDecision({ ...d, reason: 'published' }, 1, '2.0.0')).toBe('the image this run published')
    expect(describeDecision({ ...d, reason: 'unknownVersion' }, 1, '2.0.0')).toMatch(/not major\.minor\.patch/)
  })
})

describe('making room', () => {
  const others = (count: number) => Array.from({ length: count }, (_, i) => image('1.0.0', { displayName: `Other-${i}` }))

  it('is not needed below the cap', () => {
    expect(planRoom({ images: others(19), displayName: 'Win11-Dev', version: '2.0.0', keepVersions: 1, policies: [] })).toEqual({
      kind: 'notNeeded'
    })
  })

  it('needs keepVersions', () => {
    const room = planRoom({ images: [...others(19), image('1.0.0')], displayName: 'Win11-Dev', version: '2.0.0', policies: [] })
    expect(room).toMatchObject({ kind: 'full', need: 1, decisions: [] })
  })

  it('deletes exactly one image, the oldest retention would delete anyway', () => {
    const family = [image('1.3.0'), image('1.1.0'), image('1.2.0')]
    const room = planRoom({
      images: [...others(17), ...family],
      displayName: 'Win11-Dev',
      version: '2.0.0',
      keepVersions: 2,
      policies: []
    })
    expect(room.kind).toBe('delete')
    if (room.kind === 'delete') expect(room.images.map(i => i.version)).toEqual(['1.1.0'])
  })

  it('deletes as many as make room for one in a tenant over the cap', () => {
    const family = [image('1.3.0'), image('1.1.0'), image('1.2.0')]
    const room = planRoom({
      images: [...others(18), ...family],
      displayName: 'Win11-Dev',
      version: '2.0.0',
      keepVersions: 1,
      policies: []
    })
    expect(room.kind === 'delete' && room.images.map(i => i.version)).toEqual(['1.1.0', '1.2.0'])
  })

  it('deletes nothing when retention may not delete enough', () => {
    const family = [image('1.3.0'), image('1.1.0')]
    const used = policy('p', family[1].id)
    expect(
      planRoom({
        images: [...others(18), ...family],
        displayName: 'Win11-Dev',
        version: '2.0.0',
        keepVersions: 2,
        policies: [used]
      })
    ).toMatchObject({ kind: 'full', need: 1 })
    expect(
      planRoom({ images: [...others(18), ...family], displayName: 'Win11-Dev', version: '2.0.0', keepVersions: 3, policies: [] })
    ).toMatchObject({ kind: 'full', need: 1 })
    // Two must go, one may.
    expect(
      planRoom({ images: [...others(19), ...family], displayName: 'Win11-Dev', version: '2.0.0', keepVersions: 2, policies: [] })
    ).toMatchObject({ kind: 'full', need: 2 })
  })
})
