import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { FakeClock } from './helpers/fake-clock.js'
import { baseInputs, runInProcess } from './helpers/run-in-process.js'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

describe('what the log shows', () => {
  it('a two-hour wait: one line per status change, a heartbeat every five minutes, nothing per poll', async () => {
    // One clock for the action and the emulator: 120 one-minute polls over real HTTP, without waiting.
    const clock = new FakeClock()
    emulator = await startEmulator({ now: () => clock.now(), defaultUpload: [{ pendingMs: 2 * 3600_000, outcome: 'ready' }] })
    const r = await runInProcess(baseInputs(emulator, { pollIntervalSeconds: '60', timeoutMinutes: '180' }), { clock })
    expect(r.code).toBe(0)
    const polls = emulator.requests.filter(x => x.route === 'deviceImages.get').length
    expect(polls).toBe(120)

    const visible = r.logger.lines.filter(l => l.level !== 'debug')
    const heartbeats = visible.filter(l => l.message.startsWith('Still pending'))
    expect(heartbeats).toHaveLength(23)
    expect(heartbeats[0].message).toBe('Still pending after 5m 0s; 2h 55m left before the time-out.')
    expect(visible.filter(l => /^Image \S+ is pending after/.test(l.message))).toHaveLength(1)
    expect(visible.filter(l => /^Image \S+ is ready after 2h 0m\.$/.test(l.message))).toHaveLength(1)
    // Apart from the heartbeat, no line shape comes back: nothing repeats per poll.
    const shapes = new Map<string, number>()
    for (const line of visible.filter(l => !l.message.startsWith('Still pending')))
      shapes.set(
        line.message.replace(/[0-9a-f-]{36}|\d+/g, '#'),
        (shapes.get(line.message.replace(/[0-9a-f-]{36}|\d+/g, '#')) ?? 0) + 1
      )
    expect([...shapes.entries()].filter(([, n]) => n > 1)).toEqual([])
    // Heartbeats aside, a fixed few lines (set-up, the source checks, the plan, the result).
    expect(visible.length - heartbeats.length).toBeLessThan(25)
  })

  it('puts set-up and each phase in a log group', async () => {
    emulator = await startEmulator({ defaultUpload: [{ pendingMs: 50, outcome: 'ready' }] })
    const r = await runInProcess(baseInputs(emulator))
    expect(r.logger.of('group').map(l => l.message)).toEqual([
      'Set up',
      'Check the source image',
      'Find the image',
      'Publish the image',
      'Wait for the upload'
    ])
    const setUp = r.logger.lines
      .slice(
        1,
        r.logger.lines.findIndex(l => l.message === 'Check the source image')
      )
      .filter(l => l.level === 'info')
    expect(setUp.map(l => l.message)).toEqual([
      expect.stringMatching(/^Publishing "Win11-Dev" version 1\.4\.0 from /),
      expect.stringMatching(/^Signed in to http:\/\/127\.0\.0\.1:\d+ with the client secret of app /)
    ])
  })

  it('stays inside the annotation limits when many Cloud PCs fail: one error, no warning per Cloud PC', async () => {
    const policy = 'aaaaaaaa-0000-4000-8000-000000000001'
    emulator = await startEmulator({
      defaultUpload: [{ pendingMs: 20, outcome: 'ready' }],
      policies: [{ id: policy, displayName: 'Developers' }],
      cloudPcs: Array.from({ length: 40 }, (_, i) => ({ displayName: `CPC-${i}`, provisioningPolicyId: policy })),
      faults: [{ method: 'POST', path: /reprovision$/, times: Infinity, fault: { kind: 'status', status: 400 } }]
    })
    const r = await runInProcess(baseInputs(emulator, { provisioningPolicyIds: policy, reprovision: 'true' }))
    expect(r.code).toBe(1)
    expect(r.logger.of('error')).toHaveLength(1)
    expect(r.logger.of('warning').length).toBeLessThanOrEqual(10)
    expect(r.logger.of('error')[0].message).toMatch(/and 20 more \(see the job summary\)/)
    // Each message once: the counts the error gives are not printed as a line before it.
    const counts = /the roll-out did not complete: ([^.]+)\./.exec(r.logger.of('error')[0].message)![1]
    expect(r.logger.of('info').filter(l => l.message.includes(counts))).toEqual([])
  })
})
