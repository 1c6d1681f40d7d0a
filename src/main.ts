// The action: inputs → settings → credentials → publish → outputs and summary.
// `run` never throws; it returns the process exit code.

import { execFile } from 'node:child_process'
import * as core from '@actions/core'
import { ArmClient } from './http/arm-client.js'
import { type Clock, systemClock } from './core/clock.js'
import { type AzResult, createTokenProvider, unsafeAzArgument } from './http/credentials.js'
import { ActionError, CancelledError } from './core/errors.js'
import { GraphClient } from './graph/client.js'
import { parseImageStatus } from './graph/model.js'
import { parseInputs, type Settings } from './inputs.js'
import { runPreflight } from './preflight/preflight.js'
import { coreLogger, type Logger } from './core/logger.js'
import { outputsOf } from './report/outputs.js'
import { applyRetention } from './retention/apply.js'
import { publishImage, UploadFailedError } from './publish/publisher.js'
import { Requester } from './http/requester.js'
import { type Failure, newReport, type RunReport } from './report/run-report.js'
import { checkRolloutTargets, planRollout, rollOut } from './rollout/rollout.js'
import type { RetryOptions } from './http/retry-policy.js'
import { buildSummary, type RunLinks } from './report/summary.js'
import { errorText } from './core/untrusted-text.js'
import { formatDuration } from './core/duration.js'

export interface RunDependencies {
  getInput: (name: string) => string
  setOutput: (name: string, value: string) => void
  setSecret: (value: string) => void
  getIDToken: (audience: string) => Promise<string>
  runAz: (args: string[]) => Promise<AzResult>
  writeSummary: (report: RunReport) => Promise<void>
  clock: Clock
  logger: Logger
  signal?: AbortSignal
  retry?: RetryOptions
  requestTimeoutMs?: number
}

const SECRET_INPUTS = ['clientSecret', 'accessToken']
const MAX_ERROR_ANNOTATIONS = 10

export async function run(overrides: Partial<RunDependencies> = {}): Promise<number> {
  const deps: RunDependencies = { ...defaultDependencies(), ...overrides }
  const { logger, clock } = deps
  // Mask secrets before anything else runs, so nothing later can print them.
  for (const name of SECRET_INPUTS) {
    const value = deps.getInput(name).trim()
    if (value) deps.setSecret(value)
  }
  const report = newReport(clock.now())
  try {
    const parsed = parseInputs(deps.getInput)
    if (!parsed.ok) {
      report.inputErrors = parsed.errors
      reportInputErrors(parsed.errors, logger)
      return 1
    }
    const settings = parsed.settings
    report.cloud = settings.cloud
    report.displayName = settings.displayName
    report.version = settings.version
    report.sourceImageResourceId = settings.sourceImageResourceId
    if (settings.keepVersions !== undefined) report.retention = { keepVersions: settings.keepVersions, entries: [], ran: false }
    for (const warning of parsed.warnings) logger.warning(warning)
    for (const notice of parsed.notices) logger.notice(notice.message, { title: notice.title })

    const requester = new Requester({
      clock,
      logger,
      signal: deps.signal,
      retry: deps.retry,
      requestTimeoutMs: deps.requestTimeoutMs
    })
    const credentialDeps = {
      clock,
      logger,
      setSecret: deps.setSecret,
      getIDToken: deps.getIDToken,
      runAz: deps.runAz,
      requester
    }
    const tokensFor = (resource: string) =>
      createTokenProvider(settings.credentials, { resource, authorityHost: settings.authorityHost }, credentialDeps)
    const tokens = tokensFor(settings.graphEndpoint)
    await logger.group('Set up', async () => {
      logger.info(describeRun(settings))
      await tokens.getToken()
      logger.info(`Signed in to ${settings.graphEndpoint} with the ${tokens.description}.`)
    })
    const expiry = tokens.expiresAt()
    if (!tokens.renewable && expiry !== undefined && settings.wait && expiry < clock.now() + settings.timeoutMs)
      logger.warning(
        `The accessToken expires in ${formatDuration(expiry - clock.now())}, before the wait may end (timeoutMinutes: ${settings.timeoutMs / 60_000}), and cannot be renewed. Sign in with a federated credential or a client secret for long waits.`,
        { title: 'Access token may expire during the wait' }
      )
    if (settings.preflight !== 'off') {
      // accessToken is a Graph token: nothing in it can sign in to Azure Resource Manager.
      const arm =
        settings.credentials.kind === 'accessToken'
          ? undefined
          : new ArmClient({ armEndpoint: settings.armEndpoint, tokens: tokensFor(settings.armEndpoint), requester, logger })
      await logger.group('Check the source image', () => runPreflight(settings, report, { arm, clock, logger }))
    }
    const client = new GraphClient({ graphEndpoint: settings.graphEndpoint, tokens, requester, logger })
    const rollingOut = settings.provisioningPolicyIds.length > 0 || settings.reprovision
    const targets = rollingOut
      ? await logger.group('Check the roll-out targets', () => checkRolloutTargets(client, settings, logger))
      : undefined
    await publishImage(settings, report, { client, clock, logger, signal: deps.signal })
    if (targets) {
      if (settings.dryRun)
        await logger.group('Plan the roll-out', () => Promise.resolve(planRollout(settings, targets, report, logger)))
      else if (report.image)
        await logger.group('Roll out', () =>
          rollOut(settings, report.image!, targets, report, { client, clock, logger, signal: deps.signal })
        )
    }
    if (report.retention)
      await logger.group('Retention', () => applyRetention(settings, report, { client, logger, signal: deps.signal }))
    return 0
  } catch (error) {
    if (error instanceof CancelledError) report.outcome = 'cancelled'
    report.failure = failureOf(error, report)
    report.outcome ??= 'failed'
    if (report.retention && !report.retention.ran)
      report.retention.notRun ??=
        'Nothing was deleted after the publish: the run did not succeed, and keepVersions deletes old versions only after a successful publish and roll-out.'
    logger.error(report.failure.message, { title: report.failure.title })
    return 1
  } finally {
    report.endedAt = clock.now()
    // Each output on its own: one that cannot be set does not keep the others (or the summary) back.
    const notes: string[] = []
    for (const [name, value] of Object.entries(outputsOf(report, notes)))
      try {
        deps.setOutput(name, value)
      } catch (error) {
        notes.push(`The ${name} output was not set: ${errorText(error)}`)
      }
    if (notes.length > 0) logger.warning(notes.join('\n'), { title: 'Outputs cut' })
    try {
      await deps.writeSummary(report)
    } catch (error) {
      logger.warning(`Could not write the job summary: ${errorText(error)}`)
    }
  }
}

/**
 * What the run reports for the error that ended it: the error's own failure. Total, whatever was
 * thrown: a value with no prototype has no toString for String() to call.
 */
function failureOf(error: unknown, report: RunReport): Failure {
  try {
    if (error instanceof CancelledError && error.account === undefined) return cancelledFailure(report)
    if (error instanceof UploadFailedError) return error.failure
    if (error instanceof ActionError) return error.failure
    const message = error instanceof Error && error.stack ? error.stack : errorText(error)
    return { title: 'Unexpected error', message: `The action failed unexpectedly: ${message}` }
  } catch {
    // A value whose prototype or stack getter throws.
    return { title: 'Unexpected error', message: `The action failed unexpectedly: ${errorText(error)}` }
  }
}

/** What a cancellation thrown without an account of its own left, in words true at that moment. */
function cancelledFailure(report: RunReport): Failure {
  const image = report.image
  if (!image) return { title: 'Cancelled', message: 'The run was cancelled before an image was created.' }
  const status = parseImageStatus(image.status)
  if (status === 'ready' || status === 'warning')
    return {
      title: 'Cancelled',
      message: `The run was cancelled after image ${image.id} was ${status}: ${report.updatedPolicyIds.length} of ${report.policies?.length ?? 0} policies were seen pointing at it, and no Cloud PC was reprovisioned. Run again with the same inputs to finish the roll-out.`
    }
  return {
    title: 'Cancelled',
    message: `The run was cancelled. Image ${image.id} was ${String(image.status)}; the upload goes on in the service: run again with the same inputs to wait on it.`
  }
}

function reportInputErrors(errors: { input: string; message: string }[], logger: Logger): void {
  // The UI keeps ten error annotations per step: fold the rest into the last one.
  const shown = errors.length > MAX_ERROR_ANNOTATIONS ? errors.slice(0, MAX_ERROR_ANNOTATIONS - 1) : errors
  for (const e of shown) logger.error(e.message, { title: `Invalid input: ${e.input}` })
  const rest = errors.slice(shown.length)
  if (rest.length > 0)
    logger.error(rest.map(e => `${e.input}: ${e.message}`).join('\n'), { title: `${rest.length} more invalid inputs` })
}

function describeRun(s: Settings): string {
  const how = s.dryRun ? 'Planning (dry run)' : 'Publishing'
  return `${how} "${s.displayName}" version ${s.version} from ${s.sourceImageResourceId} via ${s.graphEndpoint} (onExisting: ${s.onExisting}, wait: ${s.wait}).`
}

/** Links to the run and the commit, from the variables every runner sets. */
function runLinks(): RunLinks {
  const {
    GITHUB_SERVER_URL: server = 'https://github.com',
    GITHUB_REPOSITORY: repository,
    GITHUB_RUN_ID: runId,
    GITHUB_SHA: sha
  } = process.env
  if (!repository || !runId) return {}
  const base = `${server}/${repository}`
  return { runUrl: `${base}/actions/runs/${runId}`, commitUrl: sha ? `${base}/commit/${sha}` : undefined, sha }
}

/** Starts the Azure CLI; exported for its test. */
export function runAz(args: string[]): Promise<AzResult> {
  // az is a .cmd script on Windows runners, which only a shell can start, and the shell reads the
  // arguments unquoted: one it could take for a command is refused before anything starts.
  const unsafe = unsafeAzArgument(args)
  if (unsafe) return Promise.resolve({ ok: false, missing: false, message: unsafe })
  return new Promise(resolve => {
    execFile('az', args, { shell: process.platform === 'win32', timeout: 60_000 }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout })
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT' || /not recognized|not found/i.test(stderr)
      resolve({ ok: false, missing, message: stderr || error.message })
    })
  })
}

function defaultDependencies(): RunDependencies {
  return {
    getInput: name => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    setSecret: value => core.setSecret(value),
    getIDToken: audience => core.getIDToken(audience),
    runAz,
    writeSummary: async report => {
      if (!process.env.GITHUB_STEP_SUMMARY) return
      // buildSummary keeps under GitHub's size limit and never throws.
      buildSummary(core.summary.emptyBuffer(), report, runLinks())
      await core.summary.write()
    },
    clock: systemClock,
    logger: coreLogger
  }
}
