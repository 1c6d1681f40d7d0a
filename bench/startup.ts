// Start-up: from spawning `node dist/index.js` to its first request reaching the emulator, against
// `node -e 0` from spawn to exit and against a bundle of only the toolkit (bench/toolkit-only.mjs)
// from spawn to the same first request, interleaved in the same run.

import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Emulator, startEmulator } from '../emulator/index.js'
import { BUNDLE, inputEnv, ROOT } from '../scripts/runner.js'

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function bareNode(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
    child.on('error', reject)
    child.on('exit', () => resolve(performance.now() - started))
  })
}

/** The toolkit-only bundle, built with dist/'s ncc flags into a temporary directory. */
function buildToolkitOnly(): { bundle: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'toolkit-only-'))
  execFileSync(
    join(ROOT, 'node_modules', '.bin', 'ncc'),
    ['build', join(ROOT, 'bench', 'toolkit-only.mjs'), '-o', dir, '-m', '-q'],
    {
      cwd: ROOT,
      stdio: 'ignore'
    }
  )
  return { bundle: join(dir, 'index.mjs'), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Resolves with the time from spawn to the first request the emulator logs, then stops the process. */
function actionToFirstRequest(emulator: Emulator, bundle = BUNDLE): Promise<number> {
  return new Promise((resolve, reject) => {
    const seen = emulator.requests.length
    const env = {
      PATH: process.env.PATH ?? '',
      ...inputEnv({
        displayName: 'Win11-Startup',
        version: '1.0.0',
        sourceImageResourceId:
          '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/images/startup',
        tenantId: '00000000-0000-0000-0000-000000000001',
        clientId: '00000000-0000-0000-0000-000000000002',
        clientSecret: 'bench',
        graphEndpoint: emulator.url,
        authorityHost: emulator.url,
        armEndpoint: emulator.armUrl
      })
    }
    const startedWall = Date.now()
    const started = performance.now()
    const child = spawn(process.execPath, [bundle], { env, cwd: ROOT, stdio: 'ignore' })
    child.on('error', reject)
    const timer = setInterval(() => {
      const first = emulator.requests[seen]
      if (!first) return
      clearInterval(timer)
      child.kill('SIGKILL')
      // The emulator stamps arrival with Date.now(); convert to this process's monotonic start.
      resolve(first.time - startedWall + (performance.now() - started - (Date.now() - startedWall)))
    }, 1)
  })
}

export interface Startup {
  actionMs: number
  bareMs: number
  toolkitMs: number
  /** The action against `node -e 0`. */
  ratio: number
  /** The action against the toolkit-only bundle. */
  toolkitRatio: number
}

export async function measureStartup(runs = 20): Promise<Startup> {
  const emulator = await startEmulator()
  const toolkit = buildToolkitOnly()
  try {
    const action: number[] = []
    const bare: number[] = []
    const toolkitOnly: number[] = []
    // Interleaved, so a busy moment on the machine weighs on all alike.
    for (let i = 0; i < runs; i++) {
      bare.push(await bareNode())
      action.push(await actionToFirstRequest(emulator))
      toolkitOnly.push(await actionToFirstRequest(emulator, toolkit.bundle))
    }
    const actionMs = median(action)
    const bareMs = median(bare)
    const toolkitMs = median(toolkitOnly)
    return { actionMs, bareMs, toolkitMs, ratio: actionMs / bareMs, toolkitRatio: actionMs / toolkitMs }
  } finally {
    toolkit.cleanup()
    await emulator.close()
  }
}

if (process.argv[1]?.endsWith('startup.ts')) console.log(await measureStartup(Number(process.argv[2] ?? 20)))
