import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startEmulator } from './index.js'
import type { EmulatorOptions, FaultRule } from './types.js'

/** JSON holds neither a RegExp nor Infinity: `path` is a regex source and `times` may be "Infinity". */
interface JsonFaultRule extends Omit<FaultRule, 'path' | 'times'> {
  path?: string
  times?: number | 'Infinity'
}

interface JsonConfig extends Omit<EmulatorOptions, 'now' | 'faults'> {
  faults?: JsonFaultRule[]
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(2)
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'arm-port': { type: 'string' },
    host: { type: 'string' },
    config: { type: 'string' }
  }
})
const config: JsonConfig = values.config === undefined ? {} : (JSON.parse(readFileSync(values.config, 'utf8')) as JsonConfig)
function portOption(flag: string, given: string | undefined, configured: number | undefined): number | undefined {
  const port = given === undefined ? configured : Number(given)
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
    fail(`--${flag} must be an integer from 0 to 65535, got '${given}'`)
  return port
}
const port = portOption('port', values.port, config.port)
const armPort = portOption('arm-port', values['arm-port'], config.armPort)

const emulator = await startEmulator({
  ...config,
  host: values.host ?? config.host,
  port,
  armPort,
  faults: (config.faults ?? []).map(f => ({
    ...f,
    path: f.path === undefined ? undefined : new RegExp(f.path),
    times: f.times === 'Infinity' ? Infinity : f.times
  }))
})
process.stdout.write(`Graph emulator listening on ${emulator.url}\n`)
// Standard output keeps its one line, which scripts read; the second server is announced beside it.
process.stderr.write(`Azure Resource Manager emulator listening on ${emulator.armUrl}\n`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0))
  })
}
