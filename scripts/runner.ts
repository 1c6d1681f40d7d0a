// Runs the bundled action the way a GitHub runner does: a node process with INPUT_* variables and
// fresh GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, which are read back when it exits.

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const BUNDLE = join(ROOT, 'dist', 'index.js')
/** Preloaded into every step this runner starts: only loopback connections (see the file). */
const LOOPBACK_ONLY = join(ROOT, 'scripts', 'loopback-only.cjs')
const BLOCKED = 'loopback-only: blocked a connection to '

export interface RunnerOptions {
  inputs: Record<string, string>
  /** Extra environment (GITHUB_* context, proxies...); the parent's INPUT_* never leak in. */
  env?: Record<string, string>
  /** Called with each chunk of the step's stdout as it arrives. */
  onStdout?: (chunk: string) => void
  /** Sends `signal` to the step once its stdout contains `text`, as a person cancelling the run would. */
  signalWhen?: { text: string; signal: NodeJS.Signals }
  timeoutMs?: number
}

export interface RunnerResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  durationMs: number
  /** When `signalWhen` fired, in ms since the epoch. */
  signalledAt?: number
  exitedAt: number
}

export const RUN_CONTEXT = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'contoso/cloudpc-images',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_WORKFLOW: 'Publish image',
  GITHUB_JOB: 'publish',
  GITHUB_ACTOR: 'octocat',
  GITHUB_EVENT_NAME: 'workflow_dispatch'
}

export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  // The runner upper-cases the name and turns spaces into underscores.
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value])
  )
}

export function runAction(options: RunnerOptions): Promise<RunnerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudpc-step-'))
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !key.startsWith('INPUT_') && !key.startsWith('GITHUB_') && !key.startsWith('ACTIONS_') && !key.startsWith('RUNNER_')
    )
  ) as Record<string, string>
  delete base.NODE_OPTIONS
  const env = {
    ...base,
    ...options.env,
    ...inputEnv(options.inputs),
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    LOOPBACK_ONLY_EXIT: '1'
  }
  const started = Date.now()
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--require', LOOPBACK_ONLY, BUNDLE], {
      env,
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    let signalledAt: number | undefined
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      options.onStdout?.(chunk)
      if (options.signalWhen && signalledAt === undefined && stdout.includes(options.signalWhen.text)) {
        signalledAt = Date.now()
        child.kill(options.signalWhen.signal)
      }
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
      // No point letting it retry for minutes: the run is already wrong.
      if (stderr.includes(BLOCKED)) child.kill('SIGKILL')
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const result: RunnerResult = {
        code,
        signal,
        stdout,
        stderr,
        outputs: parseGithubOutput(readFileSync(outputFile, 'utf8')),
        summary: readFileSync(summaryFile, 'utf8'),
        durationMs: Date.now() - started,
        signalledAt,
        exitedAt: Date.now()
      }
      rmSync(dir, { recursive: true, force: true })
      const blocked = stderr.split('\n').find(line => line.startsWith(BLOCKED))
      // A step that tried to leave loopback fails whoever ran it, whatever its exit code.
      if (blocked) reject(new Error(`The step tried to connect outside loopback: ${blocked.slice(BLOCKED.length)}`))
      else resolvePromise(result)
    })
  })
}

/** Parses the `name<<DELIMITER ... DELIMITER` records @actions/core writes to GITHUB_OUTPUT. */
export function parseGithubOutput(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const value: string[] = []
      while (++i < lines.length && lines[i] !== delimiter) value.push(lines[i])
      outputs[name] = value.join('\n')
      continue
    }
    const simple = /^([^=]+)=(.*)$/.exec(lines[i])
    if (simple) outputs[simple[1]] = simple[2]
  }
  return outputs
}
