/**
 * Deterministic randomness: every random choice of a search (per-call seeds, pairings) comes from the request
 * seed through these pure functions, so equal seeds give equal candidates, pairings and answers, regardless
 * of how concurrent work interleaves.
 */

const MAX_UINT32 = 0x1_0000_0000

// A 32-bit avalanche step (the finaliser of MurmurHash3): small input changes flip about half the output bits.
const avalanche = (value: number): number => {
  let h = value >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85eb_ca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2_ae35)
  h ^= h >>> 16
  return h >>> 0
}

const hashString = (text: string): number => {
  let h = 0x811c_9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x0100_0193)
  return h >>> 0
}

/** A uint32 seed for one labelled use of the request seed, e.g. `deriveSeed(seed, "generate", step, attempt)`. */
export const deriveSeed = (seed: number, ...path: ReadonlyArray<string | number>): number =>
  path.reduce<number>(
    (h, part) => avalanche(h ^ (typeof part === "number" ? avalanche(part + 0x9e37_79b9) : hashString(part))),
    avalanche(seed >>> 0),
  )

/** A uniform [0, 1) generator (mulberry32) seeded with a uint32. */
export const makeRng = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b_79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / MAX_UINT32
  }
}

/** A seeded Fisher–Yates shuffle (a new array). */
export const shuffle = <A>(items: ReadonlyArray<A>, rng: () => number): Array<A> => {
  const out = items.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const held = out[i] as A
    out[i] = out[j] as A
    out[j] = held
  }
  return out
}
