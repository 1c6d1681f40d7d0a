// The suite's own guard: nothing the tests, the demo or the benchmarks start may leave loopback.

import { describe, expect, it } from '@jest/globals'
import { request } from 'node:http'
import { createRequire } from 'node:module'
import { startEmulator } from '../emulator/index.js'
import { RUN_CONTEXT, runAction } from '../scripts/runner.js'
import { baseInputs } from './helpers/run-in-process.js'

const require = createRequire(import.meta.url)
const { install, isLoopback } = require('../scripts/loopback-only.cjs') as {
  install: (onBlocked: (host: string) => void) => void
  isLoopback: (host: string) => boolean
}

describe('loopback-only guard', () => {
  it('tells loopback hosts from the others', () => {
    for (const host of ['localhost', '127.0.0.1', '127.8.9.10', '::1', '[::1]', 'LOCALHOST']) expect(isLoopback(host)).toBe(true)
    for (const host of ['management.azure.com', '10.0.0.1', '128.0.0.1', 'localhost.example', '::2'])
      expect(isLoopback(host)).toBe(false)
  })

  it('refuses a connection to another host before any lookup, and reports it', async () => {
    const blocked: string[] = []
    install(host => void blocked.push(host))
    const error = await new Promise<Error>(resolve => {
      const req = request({ host: 'management.azure.com', port: 443, path: '/' })
      req.on('error', resolve)
      req.end()
    })
    expect(error.message).toBe('connection to management.azure.com refused: only loopback addresses may be used here')
    expect(blocked).toEqual(['management.azure.com'])
  })

  it('fails a bundled run that reaches for a public host, whatever its exit code', async () => {
    const e = await startEmulator()
    try {
      // No armEndpoint: the preflight would read https://management.azure.com.
      const inputs = { ...baseInputs(e), armEndpoint: '' }
      await expect(runAction({ inputs, env: RUN_CONTEXT })).rejects.toThrow(
        'The step tried to connect outside loopback: management.azure.com'
      )
    } finally {
      await e.close()
    }
  })
})
