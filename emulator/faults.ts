import type { Random } from './random.js'
import type { Fault, FaultRule } from './types.js'

interface ArmedRule {
  rule: FaultRule
  /** Matching requests seen so far, counted against `skip`. */
  seen: number
  fired: number
}

export function pathMatches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true
  if (typeof pattern === 'string') return pattern === path
  // A global or sticky RegExp keeps its position between calls; every request starts afresh.
  pattern.lastIndex = 0
  return pattern.test(path)
}

export class FaultBook {
  private rules: ArmedRule[] = []

  constructor(private readonly random: Random) {}

  add(rule: FaultRule): void {
    this.rules.push({ rule, seen: 0, fired: 0 })
  }

  clear(): void {
    this.rules = []
  }

  /** The first rule, in the order added, that fires for this request; later rules do not see it. */
  pick(method: string, path: string): Fault | undefined {
    for (const armed of this.rules) {
      const { rule } = armed
      if (rule.method !== undefined && rule.method.toUpperCase() !== method.toUpperCase()) continue
      if (!pathMatches(rule.path, path)) continue
      armed.seen += 1
      if (armed.seen <= (rule.skip ?? 0) || armed.fired >= (rule.times ?? 1)) continue
      const probability = rule.probability ?? 1
      if (probability < 1 && this.random.next() >= probability) continue
      armed.fired += 1
      return rule.fault
    }
    return undefined
  }
}
