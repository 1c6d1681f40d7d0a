// Keeps every process the tests, the demo and the benchmarks start on loopback: a connection to any
// other host is refused before its name is even looked up, and reported, so a default endpoint
// left unset (management.azure.com, graph.microsoft.com) fails the run instead of reaching out.
// Loaded with --require into child processes (scripts/runner.ts) and by jest's set-up.

const net = require('node:net')

function isLoopback(host) {
  const h = String(host)
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/** Patches net.Socket#connect; `onBlocked(host)` is told of each refused connection. */
function install(onBlocked) {
  const connect = net.Socket.prototype.connect
  net.Socket.prototype.connect = function (...args) {
    // net.createConnection passes its normalized arguments as one array.
    const first = Array.isArray(args[0]) ? args[0][0] : args[0]
    const options = first !== null && typeof first === 'object' ? first : undefined
    const host = options ? options.host : typeof args[1] === 'string' ? args[1] : undefined
    // A string path is a Unix socket or a named pipe: local by nature.
    const local = typeof options?.path === 'string' || typeof first === 'string' || host === undefined || isLoopback(host)
    if (local) return connect.apply(this, args)
    onBlocked(String(host))
    process.nextTick(() => this.destroy(new Error(`connection to ${host} refused: only loopback addresses may be used here`)))
    return this
  }
}

module.exports = { install, isLoopback }

// Preloaded into a child process: a blocked connection ends it with a line the runner can see.
if (process.env.LOOPBACK_ONLY_EXIT === '1')
  install(host => {
    process.stderr.write(`loopback-only: blocked a connection to ${host}\n`)
    process.exitCode = 97
  })
