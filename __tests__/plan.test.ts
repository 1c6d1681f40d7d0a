import { describe, expect, it } from '@jest/globals'
import { explainErrorCode, ERROR_CODES, isRetryableErrorCode } from '../src/publish/error-codes.js'
import type { DeviceImage } from '../src/graph/model.js'
import { nextPatch, planImage, tenantFullMessage } from '../src/publish/image-plan.js'

const SOURCE = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/images/a'
const OTHER = SOURCE.replace(/a$/, 'b')
const existing = (source: string, status = 'ready'): DeviceImage => ({
  id: 'img-1',
  displayName: 'Win11',
  version: '1.0.0',
  sourceImageResourceId: source,
  status,
  errorCode: null
})
const want = (onExisting: 'reuse' | 'update' | 'replace' | 'fail') => ({
  displayName: 'Win11',
  version: '1.0.0',
  sourceImageResourceId: SOURCE,
  onExisting
})

describe('planImage', () => {
  it('creates when nothing matches', () => {
    expect(planImage(want('fail'), [])).toEqual({ kind: 'create' })
  })

  it.each([
    ['reuse', SOURCE, 'reuse'],
    ['reuse', SOURCE.toUpperCase(), 'reuse'],
    ['reuse', OTHER, 'refuse'],
    ['update', SOURCE, 'reuse'],
    ['replace', SOURCE, 'replace'],
    ['replace', OTHER, 'replace'],
    ['fail', SOURCE, 'refuse']
  ] as const)('onExisting %s with source %s → %s', (onExisting, source, kind) => {
    expect(planImage(want(onExisting), [existing(source)]).kind).toBe(kind)
  })

  it('names both sources and suggests a new version when reuse meets another source', () => {
    const plan = planImage(want('reuse'), [existing(OTHER)])
    expect(plan).toMatchObject({ kind: 'refuse', message: expect.stringContaining(OTHER) })
    if (plan.kind !== 'refuse') return
    expect(plan.message).toContain(SOURCE)
    expect(plan.message).toContain('1.0.1')
  })

  it.each([
    ['failed', 'update'],
    ['FAILED', 'update'],
    ['ready', 'refuse'],
    ['pending', 'refuse'],
    ['warning', 'refuse'],
    ['unknownFutureValue', 'refuse']
  ])('update with another source on a %s image → %s', (status, kind) => {
    expect(planImage(want('update'), [existing(OTHER, status)]).kind).toBe(kind)
  })

  it('refuses to update a usable image, naming both sources and suggesting replace or a new version', () => {
    const plan = planImage(want('update'), [existing(OTHER, 'ready')])
    expect(plan).toMatchObject({ kind: 'refuse', title: 'Image cannot be updated' })
    if (plan.kind !== 'refuse') return
    expect(plan.message).toContain(OTHER)
    expect(plan.message).toContain(SOURCE)
    expect(plan.message).toMatch(/onExisting to replace/)
    expect(plan.message).toContain('1.0.1')
  })

  it('marks an adopted image that had already failed', () => {
    expect(planImage(want('reuse'), [existing(SOURCE, 'failed')])).toMatchObject({ kind: 'reuse', alreadyFailed: true })
  })

  it('prefers the duplicate built from the wanted source', () => {
    const plan = planImage(want('reuse'), [{ ...existing(OTHER), id: 'other' }, existing(SOURCE)])
    expect(plan).toMatchObject({ kind: 'reuse', image: { id: 'img-1' } })
  })

  it('suggests the next patch version', () => {
    expect(nextPatch('1.9.9')).toBe('1.9.10')
  })
})

describe('the tenant-full message', () => {
  const noRetention = { displayName: 'Win11', version: '1.0.0', need: 1, decisions: [] }
  const image = (id: string, lastModifiedDateTime?: string): DeviceImage => ({
    ...existing(SOURCE),
    id,
    displayName: `Old ${id}`,
    lastModifiedDateTime
  })

  it('explains the cap and lists the unused images oldest first, with the day each last changed', () => {
    const images = [
      image('a', '2026-01-15T08:30:00Z'),
      image('c'),
      image('b', '2026-03-01T10:00:00Z'),
      image('used', '2025-01-01T00:00:00Z')
    ]
    const lines = tenantFullMessage(images, [{ id: 'p', imageId: 'used' }], noRetention).split('\n')
    expect(lines[0]).toBe(
      'The tenant already holds 4 custom images, the most Windows 365 allows (20), so no new image can be created.'
    )
    expect(lines.filter(line => line.startsWith('- '))).toEqual([
      '- "Old a" 1.0.0 (a, last modified 2026-01-15)',
      '- "Old b" 1.0.0 (b, last modified 2026-03-01)',
      '- "Old c" 1.0.0 (c, last modified unknown)'
    ])
  })

  it('says so when every image is in use', () => {
    expect(tenantFullMessage([image('a')], [{ id: 'p', imageId: 'a' }], noRetention)).toContain(
      'Every image is used by a provisioning policy'
    )
  })

  it('suggests keepVersions when it is unset, and says why it could not help when it is set', () => {
    expect(tenantFullMessage([image('a')], [], noRetention)).toContain(
      'Or set keepVersions (for example 3): the action then deletes older versions of "Win11" that no policy uses'
    )
    const set = tenantFullMessage([image('a')], [], { ...noRetention, keepVersions: 2, need: 2, decisions: [] })
    expect(set).toContain('keepVersions is 2, but no image of "Win11" may be deleted to make room (2 must go)')
    expect(set).not.toContain('Or set keepVersions')
    const due = { image: image('a'), delete: true, reason: 'older' as const, usedBy: [] }
    const one = tenantFullMessage([image('a')], [], { ...noRetention, keepVersions: 1, need: 2, decisions: [due] })
    expect(one).toContain('keepVersions is 1, but only 1 image of "Win11" may be deleted to make room (2 must go)')
    const two = tenantFullMessage([image('a')], [], { ...noRetention, keepVersions: 1, need: 3, decisions: [due, due] })
    expect(two).toContain('only 2 images of "Win11" may be deleted')
  })
})

describe('error codes', () => {
  it('covers the beta list once each', () => {
    const codes = ERROR_CODES.map(c => c.code)
    expect(new Set(codes).size).toBe(14)
    expect(codes).toContain('startMenuAppLimitExceeded')
    expect(codes).toContain('vmAlreadyAzureAdjoined')
  })

  it('looks codes up case-insensitively', () => {
    expect(explainErrorCode('VMALREADYAZUREADJOINED').code).toBe('vmAlreadyAzureAdjoined')
  })

  it('retries only service faults and unknown reasons', () => {
    expect(isRetryableErrorCode('internalServerError')).toBe(true)
    expect(isRetryableErrorCode('')).toBe(true)
    expect(isRetryableErrorCode('unknownFutureValue')).toBe(true)
    expect(isRetryableErrorCode('sourceImageNotFound')).toBe(false)
    expect(isRetryableErrorCode('osVersionNotSupported')).toBe(false)
  })

  it('keeps an unrecognised code verbatim', () => {
    expect(explainErrorCode('brandNewCode')).toMatchObject({
      code: 'brandNewCode',
      retry: 'once',
      meaning: expect.stringContaining('brandNewCode')
    })
  })
})
