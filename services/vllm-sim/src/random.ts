// Deterministic hashing and pseudo-random numbers. Every simulator instance must derive the same latent values
// from the same text, so nothing here may depend on process state.

/** 32-bit FNV-1a over a string, then mixed (murmur3 finaliser) so nearby inputs spread well. */
export const hash32 = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A keyed hash mapped to [0, 1). */
export const unitHash = (key: string, text: string): number => hash32(`${key}\u0000${text}`) / 4294967296

/** A small, fast PRNG (mulberry32). */
export interface Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [0, n). */
  readonly int: (n: number) => number
  /** One element of a non-empty list. */
  readonly pick: <A>(items: ReadonlyArray<A>) => A
}

export const makeRng = (seed: number | string): Rng => {
  let state = typeof seed === "number" ? seed >>> 0 : hash32(seed)
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <A>(items: ReadonlyArray<A>): A => items[int(items.length)]!
  return { next, int, pick }
}
