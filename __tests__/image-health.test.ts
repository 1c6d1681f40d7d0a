import { describe, expect, it } from '@jest/globals'
import { imageHealthWarnings } from '../src/publish/image-health.js'

const NOW = Date.parse('2026-11-24T12:00:00Z')
const image = (osStatus: string | null, expirationDate: string | null) => ({ id: 'img-1', osStatus, expirationDate })

describe('imageHealthWarnings', () => {
  it('says nothing about a supported image far from its expiry', () => {
    expect(imageHealthWarnings(image('supported', '2028-11-24'), NOW)).toEqual([])
    expect(imageHealthWarnings(image('Supported', null), NOW)).toEqual([])
    expect(imageHealthWarnings(image(null, null), NOW)).toEqual([])
  })

  it.each([
    ['supportedWithWarning', /osStatus supportedWithWarning: the operating system is out of support/],
    ['SUPPORTEDWITHWARNING', /out of support/],
    ['unknown', /does not know whether the operating system is supported/],
    ['unknownFutureValue', /support state this action does not know/],
    ['retired', /osStatus retired: .*does not know/]
  ])('warns on osStatus %s', (osStatus, message) => {
    const [warning] = imageHealthWarnings(image(osStatus, null), NOW)
    expect(warning).toMatch(message)
    expect(warning).toContain('img-1')
  })

  it.each([
    ['2026-11-24', /expired on 2026-11-24/],
    ['2026-01-01', /expired on 2026-01-01/],
    ['2026-11-25', /expires on 2026-11-25 \(expirationDate\), in 1 day:/],
    ['2027-02-22', /in 90 days/]
  ])('warns on an expirationDate of %s', (date, message) => {
    expect(imageHealthWarnings(image('supported', date), NOW)).toEqual([expect.stringMatching(message)])
  })

  it('is quiet 91 days ahead, and gives both warnings when both apply', () => {
    expect(imageHealthWarnings(image('supported', '2027-02-23'), NOW)).toEqual([])
    expect(imageHealthWarnings(image('supportedWithWarning', '2026-12-01'), NOW)).toHaveLength(2)
  })
})
