// The ending cannot crash: outputs of values that cannot be written as they are (nested too deep,
// circular, a BigInt, megabytes long, a getter that throws) are cut down or left out with a note.
import * as core from '@actions/core'
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, startEmulator } from '../emulator/index.js'
import type { DeviceImage } from '../src/graph/model.js'
import { OUTPUT_LIMIT_BYTES, OUTPUT_NAMES, outputsOf } from '../src/report/outputs.js'
import { newReport, type RunReport } from '../src/report/run-report.js'
import { buildSummary } from '../src/report/summary.js'
import { baseInputs, runInProcess, SOURCE } from './helpers/run-in-process.js'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
  core.summary.emptyBuffer()
})

const DEEP = 10_000

function nested(levels: number): unknown {
  let value: unknown = 'bottom'
  for (let i = 0; i < levels; i++) value = { down: value }
  return value
}

function hostileReport(): RunReport {
  const circular: Record<string, unknown> = { name: 'loop' }
  circular.self = circular
  const image: DeviceImage = {
    id: 'img-1',
    displayName: 'Win11-Dev',
    version: '1.4.0',
    sourceImageResourceId: SOURCE,
    status: 'x'.repeat(5 * 1024 * 1024),
    errorCode: null,
    sizeInGB: 10n as unknown as number,
    osStatus: { nested: circular } as unknown as string,
    deep: nested(DEEP),
    circular,
    big: 2n ** 80n
  }
  Object.defineProperty(image, 'broken', {
    enumerable: true,
    get() {
      throw new Error('getter refused')
    }
  })
  return {
    ...newReport(0),
    image,
    result: 'reused',
    outcome: 'ready',
    updatedPolicyIds: ['pol-1'],
    previousPolicyImages: {
      'pol-1': { imageId: 'old', imageDisplayName: 'Old ##[x]', imageType: 'custom' },
      'pol-2': { imageId: nested(DEEP) as string, imageDisplayName: null, imageType: 10n as unknown as string }
    }
  }
}

describe('outputs of values that cannot be written as they are', () => {
  it('are cut down with a note, each output set, previousPolicyImages kept', () => {
    const notes: string[] = []
    const out = outputsOf(hostileReport(), notes)
    expect(Object.keys(out).sort()).toEqual([...OUTPUT_NAMES].sort())
    for (const value of Object.values(out)) expect(Buffer.byteLength(value!)).toBeLessThanOrEqual(OUTPUT_LIMIT_BYTES)
    expect(out.status).toMatch(/^x{1000}… \(5241880 more characters\)$/)
    expect(out.sizeInGB).toBe('10')
    expect(JSON.parse(out.osStatus!)).toEqual({ nested: { name: 'loop', self: '[cut: circular references]' } })
    const image = JSON.parse(out.image!)
    expect(image).toMatchObject({
      id: 'img-1',
      big: '1208925819614629174706176',
      circular: { self: '[cut: circular references]' }
    })
    expect(image.broken).toBe('[cut: values that could not be read: getter refused]')
    expect(JSON.stringify(image.deep)).toContain('[cut: nesting deeper than')
    expect(JSON.parse(out.previousPolicyImages!)).toEqual({
      'pol-1': { imageId: 'old', imageDisplayName: 'Old ##[x]', imageType: 'custom' },
      'pol-2': { imageId: expect.objectContaining({ down: expect.anything() }), imageDisplayName: null, imageType: '10' }
    })
    expect(JSON.parse(out.updatedPolicyIds!)).toEqual(['pol-1'])
    expect(notes).toEqual([
      expect.stringMatching(/^The previousPolicyImages output was cut: it had nesting deeper than \d+ levels\.$/),
      'The status output was cut to 1000 characters.',
      expect.stringMatching(/^The image output was cut: it had /)
    ])
  })

  it('leaves out only the output that cannot be read at all', () => {
    const report = hostileReport()
    Object.defineProperty(report, 'deletedImageIds', {
      get() {
        throw new Error('no list')
      }
    })
    const notes: string[] = []
    const out = outputsOf(report, notes)
    expect(out.deletedImageIds).toBeUndefined()
    expect(out.imageId).toBe('img-1')
    expect(notes).toContain('The deletedImageIds output was not set: no list.')
  })

  it('the summary of the same report is written and stays small', () => {
    const html = buildSummary(core.summary.emptyBuffer(), hostileReport(), {}).stringify()
    expect(html).toContain('<tr><th>Image ID</th><td>img-1</td></tr>')
    expect(Buffer.byteLength(html)).toBeLessThan(20_000)
  })
})

describe('a run whose image answer nests deeper than the outputs carry', () => {
  it('sets every output, the image one cut with a note, and writes the summary', async () => {
    const id = '11111111-aaaa-4aaa-8aaa-111111111111'
    emulator = await startEmulator({
      images: [{ id, displayName: 'Win11-Dev', version: '1.4.0', sourceImageResourceId: SOURCE }]
    })
    const [image] = emulator.images()
    // The listing answers the image with one more property, an array nested 50 deep: within what
    // an answer may nest (deeper is refused as malformed), past what an output carries.
    const nested = 50
    const body = `{"value":[${JSON.stringify(image).slice(0, -1)},"extra":${'['.repeat(nested)}${']'.repeat(nested)}}]}`
    emulator.addFault({ method: 'GET', path: /deviceImages$/, times: Infinity, fault: { kind: 'malformed', status: 200, body } })
    const r = await runInProcess(baseInputs(emulator))
    expect(r.code).toBe(0)
    expect(Object.keys(r.outputs).sort()).toEqual([...OUTPUT_NAMES].sort())
    expect(JSON.parse(r.outputs.image)).toMatchObject({ id, status: 'ready' })
    expect(r.outputs.image).toContain('[cut: nesting deeper than')
    expect(r.logger.of('warning').map(l => l.message)).toContain(
      'The image output was cut: it had nesting deeper than 32 levels.'
    )
    expect(r.summary).toContain(`<tr><th>Image ID</th><td>${id}</td></tr>`)
  })

  it('an output the runner refuses keeps neither the other outputs nor the summary back', async () => {
    emulator = await startEmulator({ defaultUpload: [{ pendingMs: 50, outcome: 'ready' }] })
    const set: Record<string, string> = {}
    let summaryWritten = false
    const r = await runInProcess(baseInputs(emulator), {
      setOutput: (name, value) => {
        if (name === 'image') throw new Error('Unexpected input: the delimiter was found in the value')
        set[name] = value
      },
      writeSummary: async () => void (summaryWritten = true)
    })
    expect(r.code).toBe(0)
    expect(Object.keys(set).sort()).toEqual(OUTPUT_NAMES.filter(n => n !== 'image').sort())
    expect(summaryWritten).toBe(true)
    expect(r.logger.of('warning').map(l => l.message)).toContain(
      'The image output was not set: Unexpected input: the delimiter was found in the value'
    )
  })
})
