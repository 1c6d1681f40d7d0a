import { randomBytes } from 'node:crypto'

/** Source of every random choice, so a seed can make a run repeatable. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  bytes(n: number): Buffer
  uuid(): string
}

/**
 * Independent streams per purpose: otherwise injecting a fault (which draws a number) would
 * change every id minted after it.
 */
export function createRandom(seed: number | undefined, stream: number): Random {
  if (seed === undefined) {
    return withUuid({ next: Math.random, bytes: n => randomBytes(n) })
  }
  const next = mulberry32((seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0)
  return withUuid({
    next,
    bytes: n => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256)))
  })
}

function withUuid(r: Omit<Random, 'uuid'>): Random {
  return {
    ...r,
    uuid() {
      const b = r.bytes(16)
      b[6] = (b[6] & 0x0f) | 0x40
      b[8] = (b[8] & 0x3f) | 0x80
      const h = b.toString('hex')
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
    }
  }
}

function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
