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
  options: { port: { type: 'string' }, host: { type: 'string' }, config: { type: 'string' } }
})
const config: JsonConfig = values.config === undefined ? {} : (JSON.parse(readFileSync(values.config, 'utf8')) as JsonConfig)
const port = values.port === undefined ? config.port : Number(values.port)
if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
  fail(`--port must be an integer from 0 to 65535, got '${values.port}'`)

const emulator = await startEmulator({
  ...config,
  host: values.host ?? config.host,
  port,
  faults: (config.faults ?? []).map(f => ({
    ...f,
    path: f.path === undefined ? undefined : new RegExp(f.path),
    times: f.times === 'Infinity' ? Infinity : f.times
  }))
})
process.stdout.write(`Graph emulator listening on ${emulator.url}\n`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0))
  })
}
