import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import type { AzResult } from '../src/http/credentials.js'

// The real runAz, in a child process whose PATH starts with a stand-in `az` that records each start
// (a PATH set inside jest does not reach the child processes Node starts).
let dir = ''
let started = ''
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'run-az-'))
  started = join(dir, 'started')
  writeFileSync(join(dir, 'az'), `#!/bin/sh\necho "$@" >> "${started}"\necho '{"accessToken":"t"}'\n`)
  chmodSync(join(dir, 'az'), 0o755)
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** What runAz answers for each list of arguments, one after the other. */
function runAz(calls: string[][]): AzResult[] {
  const script =
    "const { runAz } = await import('./src/main.ts'); const out = []; for (const args of JSON.parse(process.argv[1])) out.push(await runAz(args)); console.log(JSON.stringify(out))"
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify(calls)], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    encoding: 'utf8'
  })
  return JSON.parse(stdout) as AzResult[]
}

describe('runAz', () => {
  it('starts az with plain arguments', () => {
    expect(runAz([['account', 'get-access-token', '--resource', 'http://127.0.0.1:8080']])).toEqual([
      { ok: true, stdout: '{"accessToken":"t"}\n' }
    ])
    expect(readFileSync(started, 'utf8')).toBe('account get-access-token --resource http://127.0.0.1:8080\n')
  })

  it('does not start az at all for an argument with & | ^ % " < > a space or a line break, on any platform', () => {
    const unsafe = ['&', '|', '^', '%', '"', '<', '>', ' ', '\n'].map(c => `https://x${c}calc.exe`)
    const results = runAz(unsafe.map(resource => ['account', 'get-access-token', '--resource', resource]))
    expect(results).toEqual(
      unsafe.map(resource => ({
        ok: false,
        missing: false,
        message: expect.stringContaining(`The Azure CLI was not started: its argument ${JSON.stringify(resource)} holds`)
      }))
    )
    expect(existsSync(started)).toBe(false)
  })
})
