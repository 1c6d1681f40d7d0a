import * as core from '@actions/core'
import { run, type RunDependencies } from '../../src/main.js'
import type { RunReport } from '../../src/report/run-report.js'
import { buildSummary } from '../../src/report/summary.js'
import { RecordingLogger } from './recording-logger.js'

export const SOURCE =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.Compute/images/win11-dev'
export const OTHER_SOURCE = SOURCE.replace(/win11-dev$/, 'win11-dev-v2')
export const CLIENT_SECRET = 'unit-test-client-secret-Zq8~'

/**
 * The inputs of a publish against an emulator: Graph, Entra and Azure Resource Manager all on
 * loopback. A bare URL (a server of the test's own) has no ARM, so the preflight is off there.
 */
export function baseInputs(
  target: string | { url: string; armUrl: string },
  overrides: Record<string, string> = {}
): Record<string, string> {
  const url = typeof target === 'string' ? target : target.url
  return {
    displayName: 'Win11-Dev',
    version: '1.4.0',
    sourceImageResourceId: SOURCE,
    tenantId: '00000000-0000-0000-0000-000000000001',
    clientId: '00000000-0000-0000-0000-000000000002',
    clientSecret: CLIENT_SECRET,
    graphEndpoint: url,
    authorityHost: url,
    ...(typeof target === 'string' ? { preflight: 'false' } : { armEndpoint: target.armUrl }),
    pollIntervalSeconds: '0.05',
    timeoutMinutes: '0.5',
    ...overrides
  }
}

export interface InProcessResult {
  code: number
  outputs: Record<string, string>
  logger: RecordingLogger
  report: RunReport
  secrets: string[]
  summary: string
}

/** Runs `run()` in this process against a real server, with retries short enough for tests. */
export async function runInProcess(
  inputs: Record<string, string>,
  extra: Partial<RunDependencies> = {}
): Promise<InProcessResult> {
  const outputs: Record<string, string> = {}
  const secrets: string[] = []
  const logger = new RecordingLogger()
  let report: RunReport | undefined
  let summary = ''
  const code = await run({
    getInput: name => (inputs[name] ?? '').trim(),
    setOutput: (name, value) => void (outputs[name] = value),
    setSecret: value => void secrets.push(value),
    getIDToken: async () => {
      throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable')
    },
    runAz: async () => ({ ok: false, missing: true, message: 'az: not found' }),
    writeSummary: async r => {
      report = r
      summary = buildSummary(core.summary.emptyBuffer(), r, {}).stringify()
      core.summary.emptyBuffer()
    },
    logger,
    retry: { baseDelayMs: 5, maxDelayMs: 50, stepBudgetMs: 2000 },
    requestTimeoutMs: 2000,
    ...extra
  })
  return { code, outputs, logger, report: report!, secrets, summary }
}
