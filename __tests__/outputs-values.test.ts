// What each output holds for ordinary and for oversized values: the image's own fields, empty for
// what the image lacks, an error code only for a failed image, and an ID list set whole up to the
// output limit, cut down past it, and left out (with a note) when even cut down it does not fit.
import { describe, expect, it } from '@jest/globals'
import type { DeviceImage } from '../src/graph/model.js'
import { OUTPUT_LIMIT_BYTES, outputsOf } from '../src/report/outputs.js'
import { newReport, type RunReport } from '../src/report/run-report.js'
import { SOURCE } from './helpers/run-in-process.js'

function reportOf(image: Partial<DeviceImage>, extra: Partial<RunReport> = {}): RunReport {
  return {
    ...newReport(0),
    result: 'created',
    image: {
      id: 'img-1',
      displayName: 'Win11-Dev',
      version: '1.4.0',
      sourceImageResourceId: SOURCE,
      status: 'ready',
      errorCode: null,
      ...image
    },
    ...extra
  }
}

/** `count` IDs of `length` characters each, each starting with its number. */
const ids = (count: number, length: number): string[] => Array.from({ length: count }, (_, i) => `${i}-`.padEnd(length, 'x'))

describe('the outputs of a run that ended before an image', () => {
  it('are the lists only, with nothing to note', () => {
    // Failed before the create (a source that cannot be used): no result, no image.
    const notes: string[] = []
    expect(outputsOf(newReport(0), notes)).toEqual({
      updatedPolicyIds: '[]',
      previousPolicyImages: '{}',
      reprovisionedCloudPcIds: '[]',
      reprovisionFailedCloudPcIds: '[]',
      reprovisionSkippedCloudPcIds: '[]',
      deletedImageIds: '[]'
    })
    expect(notes).toEqual([])
  })
})

describe('the scalar outputs', () => {
  it('are the image fields as they are, and empty for a field the image does not have or has as null', () => {
    const out = outputsOf(
      reportOf({
        status: 'failed',
        errorCode: null,
        osVersionNumber: '10.0.26100.2033',
        osBuildNumber: null,
        osStatus: 'supported'
      })
    )
    expect(out).toMatchObject({
      status: 'failed',
      errorCode: '',
      osVersionNumber: '10.0.26100.2033',
      osBuildNumber: '',
      osStatus: 'supported',
      operatingSystem: '',
      expirationDate: ''
    })
  })

  it('errorCode is the code of a failed image only: a ready image that still carries one has none', () => {
    expect(outputsOf(reportOf({ status: 'ready', errorCode: 'internalServerError' })).errorCode).toBe('')
    expect(outputsOf(reportOf({ status: 'failed', errorCode: 'sourceImageNotGeneralized' })).errorCode).toBe(
      'sourceImageNotGeneralized'
    )
  })

  it('are cut, with a note, past 1,000 characters only', () => {
    const notes: string[] = []
    expect(outputsOf(reportOf({ status: 'x'.repeat(1000) }), notes).status).toBe('x'.repeat(1000))
    expect(notes).toEqual([])
    expect(outputsOf(reportOf({ status: 'x'.repeat(1001) }), notes).status).toBe(`${'x'.repeat(1000)}… (1 more characters)`)
    expect(notes).toEqual(['The status output was cut to 1000 characters.'])
  })

  it('a structure where a scalar was expected is written as JSON, 8 levels deep', () => {
    let nested: unknown = 'bottom'
    for (let i = 0; i < 6; i++) nested = { down: nested }
    const out = outputsOf(reportOf({ osStatus: nested as string }))
    expect(JSON.parse(out.osStatus!)).toEqual(nested)
  })
})

describe('a JSON output against the output limit', () => {
  it('is set whole at exactly the limit', () => {
    // IDs of 100 characters, the last one longer, so that the list is exactly the limit as JSON.
    const list = ids(Math.floor((OUTPUT_LIMIT_BYTES - 1) / 103), 100)
    const short = OUTPUT_LIMIT_BYTES - Buffer.byteLength(JSON.stringify(list))
    list[list.length - 1] += 'x'.repeat(short)
    expect(Buffer.byteLength(JSON.stringify(list))).toBe(OUTPUT_LIMIT_BYTES)
    const notes: string[] = []
    const out = outputsOf(reportOf({}, { deletedImageIds: list }), notes)
    expect(out.deletedImageIds).toBe(JSON.stringify(list))
    expect(notes).toEqual([])
  })

  it('is cut down to fit past the limit, with a note', () => {
    const list = ids(1000, 300)
    expect(Buffer.byteLength(JSON.stringify(list))).toBeGreaterThan(OUTPUT_LIMIT_BYTES)
    const notes: string[] = []
    const out = outputsOf(reportOf({}, { deletedImageIds: list }), notes)
    expect(Buffer.byteLength(out.deletedImageIds!)).toBeLessThanOrEqual(OUTPUT_LIMIT_BYTES)
    const written = JSON.parse(out.deletedImageIds!) as string[]
    expect(written).toHaveLength(1000)
    expect(written[999]).toBe(`999-${'x'.repeat(196)}… (100 more characters)`)
    expect(notes).toEqual(['The deletedImageIds output was cut: it had strings longer than 200 characters.'])
  })

  it('is left out, not set empty, when even cut down it does not fit; the other outputs are set', () => {
    const notes: string[] = []
    const out = outputsOf(reportOf({}, { deletedImageIds: ids(3000, 300) }), notes)
    expect(Object.keys(out)).not.toContain('deletedImageIds')
    expect(out.imageId).toBe('img-1')
    expect(notes).toEqual([`The deletedImageIds output was not set: it is over ${OUTPUT_LIMIT_BYTES} bytes even cut down.`])
  })
})
