// The bundled action against names and messages written to be workflow commands: its stdout read
// by the runner's rules (helpers/workflow-commands.ts) carries out only the commands the action
// meant, and every token it masks, renewed ones included, is masked while commands are in force.
import { afterEach, describe, expect, it } from '@jest/globals'
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.js'
import { RUN_CONTEXT, runAction } from '../scripts/runner.js'
import { baseInputs } from './helpers/run-in-process.js'
import { readWorkflowCommands } from './helpers/workflow-commands.js'

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

/** What @actions/core writes for the action: masks, groups, debug lines and annotations. */
const OWN_COMMANDS = ['add-mask', 'group', 'endgroup', 'debug', 'notice', 'warning', 'error']

async function runAgainst(options: EmulatorOptions, inputs: Record<string, string>) {
  // Tokens live a second: the action renews and masks them again in the middle of the run.
  emulator = await startEmulator({ tokenLifetimeSeconds: 1, ...options })
  const result = await runAction({ inputs: baseInputs(emulator, { pollIntervalSeconds: '0.2', ...inputs }), env: RUN_CONTEXT })
  expect(result.stderr).toBe('')
  const read = readWorkflowCommands(result.stdout)
  // Nothing was ignored: no foreign stop-commands took effect.
  expect(read.ignored).toEqual([])
  for (const command of read.processed) {
    expect(command.form).toBe('v2')
    expect(OWN_COMMANDS).toContain(command.name)
    // Written by @actions/core at the start of the line, never found inside a logged text.
    expect(read.lines[command.line].startsWith(`::${command.name}`)).toBe(true)
    expect(command.data).not.toMatch(/^leaked|^forged/)
  }
  const masked = read.processed.filter(c => c.name === 'add-mask').map(c => c.line)
  const printed = read.lines.flatMap((line, i) => (line.startsWith('::add-mask::') ? [i] : []))
  expect(masked).toEqual(printed)
  const tokens = new Set(emulator.requests.filter(r => r.route !== 'token').map(r => r.headers.authorization))
  expect(tokens.size).toBeGreaterThan(1)
  for (const token of tokens) expect(result.stdout).toContain(`::add-mask::${token.replace('Bearer ', '')}`)
  return result
}

describe('foreign text in the log of the bundled action', () => {
  it('a displayName input, policy and Cloud PC names and a Graph error message that look like commands stay text', async () => {
    const policy = 'aaaaaaaa-0000-4000-8000-000000000001'
    const result = await runAgainst(
      {
        defaultUpload: [{ pendingMs: 1500, outcome: 'ready' }],
        policies: [{ id: policy, displayName: 'Developers ##[stop-commands]x\n::add-mask::leaked-by-policy' }],
        cloudPcs: [
          { displayName: 'CPC-1 ##[stop-commands]c\r::warning::forged-by-cloud-pc', provisioningPolicyId: policy },
          { displayName: 'CPC-2', provisioningPolicyId: policy }
        ],
        faults: [
          {
            method: 'POST',
            path: /reprovision$/,
            times: 1,
            fault: {
              kind: 'malformed',
              status: 400,
              body: JSON.stringify({
                error: { code: 'badRequest', message: 'Refused ##[stop-commands]g\u2028::error::forged-by-graph' }
              })
            }
          }
        ]
      },
      { displayName: 'x ##[stop-commands]z', provisioningPolicyIds: policy, reprovision: 'true' }
    )
    // The reader still sees every name, with the marker visibly broken.
    expect(result.stdout).toContain('Publishing "x # #[stop-commands]z"')
    expect(result.stdout).toContain('Policy "Developers # #[stop-commands]x\n: :add-mask::leaked-by-policy"')
    expect(result.stdout).toContain('"CPC-1 # #[stop-commands]c\n: :warning::forged-by-cloud-pc"')
    expect(result.stdout).toContain('Refused # #[stop-commands]g\n: :error::forged-by-graph')
  })

  it('an image errorCode that looks like commands stays text', async () => {
    const result = await runAgainst(
      {
        defaultUpload: [
          { pendingMs: 1200, outcome: 'failed', errorCode: 'internalServerError ##[stop-commands]y\r::add-mask::leaked-by-code' }
        ]
      },
      { maxUploadRetries: '0' }
    )
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('failed (internalServerError # #[stop-commands]y\n: :add-mask::leaked-by-code)')
  })
})
