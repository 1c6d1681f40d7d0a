// The pure decisions of the roll-out: parsing reprovisionWaves, splitting Cloud PCs into waves,
// who is skipped, when later waves are withheld, and what a read says about a rebuild.

import { describe, expect, it } from '@jest/globals'
import type { CloudPc, RemoteActionResult } from '../src/graph/model.js'
import { observeRebuild, reprovisionStarted } from '../src/rollout/rebuild-observation.js'
import {
  isReprovisionable,
  parseWaves,
  planWaves,
  resolveTarget,
  selectCloudPc,
  splitIntoWaves,
  withholdsLaterWaves
} from '../src/rollout/wave-plan.js'

const pcs = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `pc-${String(i + 1).padStart(4, '0')}` }))

describe('parseWaves', () => {
  it.each([
    ['100%', []],
    ['1', [{ kind: 'count', count: 1 }]],
    [
      ' 1 , 10% ',
      [
        { kind: 'count', count: 1 },
        { kind: 'percent', percent: 10 }
      ]
    ],
    [
      '1,5,12.5%,50%,100%',
      [
        { kind: 'count', count: 1 },
        { kind: 'count', count: 5 },
        { kind: 'percent', percent: 12.5 },
        { kind: 'percent', percent: 50 }
      ]
    ],
    ['.5%', [{ kind: 'percent', percent: 0.5 }]]
  ])('%s', (raw, targets) => {
    expect(parseWaves(raw)).toEqual({ ok: true, targets })
  })

  it.each([
    ['10%,10%', /10% is not larger than 10%/],
    ['3,2', /2 is not larger than 3/],
    ['50%,3', /the count 3 follows a percentage/],
    ['100%,100%', /100% is not larger than 100%/],
    ['0%', /"0%" is neither/],
    ['100.5%', /"100.5%" is neither/],
    ['1e3', /"1e3" is neither/],
    ['', /an entry is empty/],
    ['1,', /an entry is empty/],
    ['-1', /"-1" is neither/]
  ])('refuses %j', (raw, message) => {
    const parsed = parseWaves(raw)
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.message).toMatch(message)
  })

  it('allows ten targets and no more', () => {
    expect(parseWaves('1,2,3,4,5,6,7,8,9,10').ok).toBe(true)
    expect(parseWaves('1,2,3,4,5,6,7,8,9,10%').ok).toBe(true)
    expect(parseWaves('1,2,3,4,5,6,7,8,9,10,20%').ok).toBe(false)
  })
})

describe('splitIntoWaves', () => {
  it('resolves counts and percentages against the total: a percentage rounds down, never to none', () => {
    expect(resolveTarget({ kind: 'count', count: 5 }, 3)).toBe(3)
    expect(resolveTarget({ kind: 'count', count: 5 }, 30)).toBe(5)
    expect(resolveTarget({ kind: 'percent', percent: 10 }, 35)).toBe(3)
    expect(resolveTarget({ kind: 'percent', percent: 1 }, 50)).toBe(1)
    expect(resolveTarget({ kind: 'percent', percent: 100 }, 7)).toBe(7)
    expect(resolveTarget({ kind: 'percent', percent: 10 }, 0)).toBe(0)
  })

  it('makes cumulative waves with the rest last', () => {
    const waves = splitIntoWaves(pcs(1000), [
      { kind: 'percent', percent: 1 },
      { kind: 'percent', percent: 10 }
    ])
    expect(waves.map(w => [w.target, w.members.length])).toEqual([
      ['1%', 10],
      ['10%', 90],
      ['100%', 900]
    ])
    expect(waves.flatMap(w => w.members)).toEqual(pcs(1000))
  })

  it('orders by ID case-insensitively, whatever order the listing had', () => {
    const waves = splitIntoWaves([{ id: 'B' }, { id: 'c' }, { id: 'a' }], [{ kind: 'count', count: 1 }])
    expect(waves.map(w => w.members.map(m => m.id))).toEqual([['a'], ['B', 'c']])
  })

  it('drops a target that adds nobody, and makes no wave of nothing', () => {
    expect(
      splitIntoWaves(pcs(3), [
        { kind: 'count', count: 1 },
        { kind: 'percent', percent: 10 }
      ]).map(w => w.target)
    ).toEqual(['1', '100%'])
    expect(splitIntoWaves(pcs(2), [{ kind: 'count', count: 5 }]).map(w => [w.target, w.members.length])).toEqual([['5', 2]])
    expect(splitIntoWaves([], [{ kind: 'count', count: 1 }])).toEqual([])
  })
})

describe('who is reprovisioned', () => {
  it.each([
    ['provisioned', true],
    ['Provisioned', true],
    ['provisionedWithWarnings', true],
    ['FAILED', true],
    ['provisioning', false],
    ['inGracePeriod', false],
    ['deprovisioning', false],
    ['notProvisioned', false],
    ['unknownFutureValue', false],
    ['aStatusAddedLater', false],
    [null, false]
  ])('%s: %s', (status, expected) => {
    expect(isReprovisionable(status)).toBe(expected)
  })

  it('skips the excluded, matched case-insensitively, before looking at the status', () => {
    const excluded = new Set(['pc-1'])
    expect(selectCloudPc({ id: 'PC-1', status: 'provisioned' }, excluded)).toEqual({
      kind: 'skip',
      reason: 'excluded (excludeCloudPcIds)'
    })
    expect(selectCloudPc({ id: 'pc-2', status: 'resizing' }, excluded)).toEqual({
      kind: 'skip',
      reason: 'status resizing: the service reprovisions only provisioned or failed Cloud PCs'
    })
    expect(selectCloudPc({ id: 'pc-3' }, excluded)).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining('status unknown')
    })
    expect(selectCloudPc({ id: 'pc-4', status: 'failed' }, excluded)).toEqual({ kind: 'reprovision' })
  })

  it('plans waves of the chosen ones only', () => {
    const plan = planWaves(
      [
        { id: 'a', status: 'provisioned' },
        { id: 'b', status: 'inGracePeriod' },
        { id: 'c', status: 'provisioned' },
        { id: 'd', status: 'provisioned' }
      ],
      { excludeCloudPcIds: ['D'], reprovisionWaves: [{ kind: 'count', count: 1 }] }
    )
    expect(plan.waves.map(w => w.members.map(m => m.id))).toEqual([['a'], ['c']])
    expect(plan.skipped.map(s => s.pc.id)).toEqual(['b', 'd'])
  })

  it('withholds later waves only once failures exceed the tolerance', () => {
    expect(withholdsLaterWaves(0, 0)).toBe(false)
    expect(withholdsLaterWaves(1, 0)).toBe(true)
    expect(withholdsLaterWaves(2, 2)).toBe(false)
    expect(withholdsLaterWaves(3, 2)).toBe(true)
  })
})

describe('observeRebuild', () => {
  const T0 = '2026-11-23T10:00:00Z'
  const T1 = '2026-11-23T11:00:00Z'
  const T2 = '2026-11-23T11:40:00Z'
  const before: CloudPc = {
    id: 'pc',
    status: 'provisioned',
    provisionedDateTime: T0,
    lastRemoteActionResult: { actionName: 'reprovision', actionState: 'done', startDateTime: T0 }
  }
  const action = (actionState: string, startDateTime = T1, statusDetail: RemoteActionResult['statusDetail'] = null) => ({
    actionName: 'Reprovision',
    actionState,
    startDateTime,
    statusDetail
  })

  it('sees nothing in a read that still shows the Cloud PC as before the request', () => {
    expect(observeRebuild(before, before, false)).toEqual({ kind: 'notSeen' })
    expect(observeRebuild(before, before, true)).toEqual({ kind: 'running' })
  })

  it('follows a new reprovision result to its end', () => {
    expect(observeRebuild(before, { ...before, lastRemoteActionResult: action('pending') }, false)).toEqual({ kind: 'running' })
    expect(
      observeRebuild(before, { ...before, status: 'provisioning', lastRemoteActionResult: action('active') }, false)
    ).toEqual({
      kind: 'running'
    })
    expect(observeRebuild(before, { ...before, lastRemoteActionResult: action('DONE') }, false)).toEqual({ kind: 'done' })
    expect(
      observeRebuild(
        before,
        {
          ...before,
          status: 'failed',
          lastRemoteActionResult: action('failed', T1, { code: 'internalServerError', message: 'boom' })
        },
        true
      )
    ).toEqual({ kind: 'failed', detail: 'the reprovision ended failed (internalServerError: boom)' })
    expect(observeRebuild(before, { ...before, lastRemoteActionResult: action('canceled') }, true)).toMatchObject({
      kind: 'failed'
    })
    expect(observeRebuild(before, { ...before, lastRemoteActionResult: action('notSupported') }, true)).toMatchObject({
      kind: 'failed'
    })
  })

  it('does not take an older reprovision result, or another action, for this one', () => {
    expect(observeRebuild(before, { ...before, lastRemoteActionResult: action('done', T0) }, false)).toEqual({ kind: 'notSeen' })
    expect(
      observeRebuild(
        before,
        { ...before, lastRemoteActionResult: { actionName: 'restart', actionState: 'done', startDateTime: T2 } },
        false
      )
    ).toEqual({ kind: 'notSeen' })
  })

  it('without a remote action result, reads the end from provisionedDateTime and the status', () => {
    const bare: CloudPc = { id: 'pc', status: 'provisioned', provisionedDateTime: T0 }
    expect(observeRebuild(bare, { ...bare, status: 'provisioning' }, false)).toEqual({ kind: 'running' })
    expect(observeRebuild(bare, { ...bare, provisionedDateTime: T2 }, true)).toEqual({ kind: 'done' })
    expect(observeRebuild(bare, { ...bare, status: 'provisionedWithWarnings', provisionedDateTime: T2 }, true)).toEqual({
      kind: 'done'
    })
    // A later provisioning date on a Cloud PC that is not provisioned is not an end.
    expect(observeRebuild(bare, { ...bare, status: 'provisioning', provisionedDateTime: T2 }, true)).toEqual({ kind: 'running' })
    expect(observeRebuild(bare, { ...bare, status: 'failed' }, false)).toEqual({
      kind: 'failed',
      detail: 'the Cloud PC is failed'
    })
  })

  it('for a Cloud PC failed before the request, counts a failure only after the rebuild was seen', () => {
    const failed: CloudPc = { id: 'pc', status: 'failed', provisionedDateTime: null }
    expect(observeRebuild(failed, failed, false)).toEqual({ kind: 'notSeen' })
    expect(observeRebuild(failed, { ...failed, status: 'provisioning' }, false)).toEqual({ kind: 'running' })
    expect(observeRebuild(failed, failed, true)).toMatchObject({ kind: 'failed' })
    // Never provisioned before: any provisioning date with the status provisioned is the end.
    expect(observeRebuild(failed, { ...failed, status: 'provisioned', provisionedDateTime: T2 }, true)).toEqual({ kind: 'done' })
  })

  it('reprovisionStarted compares the service times of the two results', () => {
    expect(reprovisionStarted(null, { id: 'pc', lastRemoteActionResult: action('active') })).toBe(true)
    expect(reprovisionStarted(before.lastRemoteActionResult, { id: 'pc', lastRemoteActionResult: action('active', T0) })).toBe(
      false
    )
    expect(
      reprovisionStarted(before.lastRemoteActionResult, { id: 'pc', lastRemoteActionResult: action('active', 'soon') })
    ).toBe(false)
    expect(reprovisionStarted(before.lastRemoteActionResult, undefined)).toBe(false)
  })
})
