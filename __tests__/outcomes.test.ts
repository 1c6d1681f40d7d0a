// The one table of Cloud PC outcomes: each maps to exactly one ID output or to none, only final
// outcomes reach an output, and every way the wave run can end turns an open entry into a final one.

import { describe, expect, it } from '@jest/globals'
import { OUTPUT_NAMES, outputsOf } from '../src/report/outputs.js'
import { CLOUD_PC_OUTCOMES, type CloudPcOutcome, type CloudPcResult, newReport, outcomeCounts } from '../src/report/run-report.js'
import { closeEntry, type Interruption } from '../src/rollout/wave-run.js'

const OUTCOMES = Object.keys(CLOUD_PC_OUTCOMES) as CloudPcOutcome[]
const ID_OUTPUTS = {
  reprovisioned: 'reprovisionedCloudPcIds',
  failed: 'reprovisionFailedCloudPcIds',
  skipped: 'reprovisionSkippedCloudPcIds'
} as const

const entry = (result: CloudPcOutcome): CloudPcResult => ({
  id: `pc-${result}`,
  displayName: '',
  userPrincipalName: '',
  status: 'provisioned',
  wave: 1,
  result
})

describe('the Cloud PC outcome table', () => {
  it('gives every outcome one output or none, and none to an outcome that is not final', () => {
    for (const outcome of OUTCOMES) {
      const { stage, output } = CLOUD_PC_OUTCOMES[outcome]
      expect(['reprovisioned', 'failed', 'skipped', 'none']).toContain(output)
      if (stage !== 'final') expect([outcome, output]).toEqual([outcome, 'none'])
    }
    // The outcomes of a dry run and those still in flight are apart from the final ones.
    const stages = (stage: string) => OUTCOMES.filter(o => CLOUD_PC_OUTCOMES[o].stage === stage).sort()
    expect(stages('planned')).toEqual(['would reprovision', 'would skip'])
    expect(stages('open')).toEqual(['pending', 'requested', 'unconfirmed'])
  })

  it('lists each final outcome in exactly the output the table names, and nothing else in any', () => {
    const report = { ...newReport(0), cloudPcs: OUTCOMES.map(entry) }
    const out = outputsOf(report)
    expect(
      Object.keys(out)
        .filter(name => name.endsWith('CloudPcIds'))
        .sort()
    ).toEqual(Object.values(ID_OUTPUTS).sort())
    for (const outcome of OUTCOMES) {
      const { stage, output } = CLOUD_PC_OUTCOMES[outcome]
      const listedIn = Object.values(ID_OUTPUTS).filter(name => (JSON.parse(out[name]!) as string[]).includes(`pc-${outcome}`))
      expect([outcome, listedIn]).toEqual([outcome, stage === 'final' && output !== 'none' ? [ID_OUTPUTS[output]] : []])
    }
    expect(OUTPUT_NAMES).toEqual(expect.arrayContaining(Object.values(ID_OUTPUTS)))
  })

  it('closes every open entry into a final one with why, whichever way the run ended', () => {
    const endings: Interruption[] = [
      { kind: 'withheld', reason: '1 failed reprovision so far' },
      { kind: 'cancelled' },
      { kind: 'stopped', reason: 'Deadline reached' }
    ]
    for (const why of endings)
      for (const outcome of OUTCOMES) {
        const pc = entry(outcome)
        closeEntry(pc, why)
        if (CLOUD_PC_OUTCOMES[outcome].stage !== 'open') {
          expect(pc.result).toBe(outcome)
          continue
        }
        expect([outcome, why.kind, CLOUD_PC_OUTCOMES[pc.result].stage]).toEqual([outcome, why.kind, 'final'])
        expect(pc.error).toBeTruthy()
      }
    const pending = entry('pending')
    closeEntry(pending, { kind: 'stopped', reason: 'Deadline reached' })
    expect(pending).toMatchObject({ result: 'notStarted', error: 'not started: the roll-out stopped (Deadline reached)' })
    const requested = entry('requested')
    closeEntry(requested, { kind: 'cancelled' })
    expect(requested.result).toBe('cancelled')
    expect(requested.error).toContain('the rebuild goes on in the service')
  })

  it('counts outcomes in the words of the table, reprovisioned always and other zeros left out', () => {
    expect(outcomeCounts([])).toBe('0 reprovisioned (seen provisioned again)')
    expect(outcomeCounts(['failed', 'notStarted', 'reprovisioned', 'failed'])).toBe(
      '1 reprovisioned (seen provisioned again), 2 failed, 1 not started'
    )
  })
})
