// Preloaded into the action by the memory benchmark (node --expose-gc --import): every 250 ms a
// full GC, then the live JS heap, so a leak shows apart from how much V8 chooses to reserve.
const timer = setInterval(() => {
  globalThis.gc()
  process.stderr.write(`heap-after-gc ${process.memoryUsage().heapUsed}\n`)
}, 250)
timer.unref()
