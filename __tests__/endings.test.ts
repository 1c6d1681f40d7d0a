// How a failure reaches the outputs and the summary: from the error that ended the run, whatever
// was thrown.
import { describe, expect, it } from '@jest/globals'
import { ActionError, CancelledError } from '../src/core/errors.js'
import { run } from '../src/main.js'
import type { RunReport } from '../src/report/run-report.js'
import { FakeClock } from './helpers/fake-clock.js'
import { RecordingLogger } from './helpers/recording-logger.js'

describe('the end of a run', () => {
  it('a thrown value with no prototype still ends exit 1, with the outputs and the summary written', async () => {
    const strange: unknown = Object.create(null)
    const outputs: Record<string, string> = {}
    const logger = new RecordingLogger()
    let summary: RunReport | undefined
    const code = await run({
      // Read after the secrets are masked, inside the run's catch.
      getInput: name => {
        if (name === 'displayName') throw strange
        return ''
      },
      setOutput: (name, value) => void (outputs[name] = value),
      setSecret: () => undefined,
      getIDToken: async () => '',
      runAz: async () => ({ ok: false, missing: true, message: 'az: not found' }),
      writeSummary: async report => void (summary = report),
      clock: new FakeClock(),
      logger
    })
    expect(code).toBe(1)
    expect(Object.keys(outputs).length).toBeGreaterThan(0)
    expect(summary?.failure).toMatchObject({ title: 'Unexpected error', message: expect.stringMatching(/failed unexpectedly/) })
    expect(summary?.outcome).toBe('failed')
    expect(logger.of('error')).toEqual([expect.objectContaining({ title: 'Unexpected error' })])
  })

  it('an error carries the failure the run reports', () => {
    expect(new ActionError('Image in use', 'Point the policies elsewhere.').failure).toEqual({
      title: 'Image in use',
      message: 'Point the policies elsewhere.'
    })
    expect(new CancelledError('Cancelled during retention: 1 of 2 deleted.').failure).toEqual({
      title: 'Cancelled',
      message: 'Cancelled during retention: 1 of 2 deleted.'
    })
    // Thrown by the requester, which knows nothing of the run: the run says what was left.
    expect(new CancelledError().account).toBeUndefined()
  })
})
