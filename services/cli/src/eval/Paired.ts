/** Two configurations compared on the questions (or MMBench groups) both answered. */
export interface PairedComparison {
  readonly a: string
  readonly b: string
  readonly n: number
  /** Mean score of a minus b, in points (0–100 scale). */
  readonly difference: number
  /** 95% paired-bootstrap interval of the difference, in points. */
  readonly low: number
  readonly high: number
  /** Units a got right and b wrong, and the reverse (binary scores only). */
  readonly onlyA: number
  readonly onlyB: number
  /** Exact two-sided McNemar p-value (binomial on the discordant pairs); null when scores are not 0/1 (MMVet). */
  readonly mcnemarP: number | null
}

/** A small seeded generator (mulberry32), so the interval is the same on every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** log C(n, k). */
const logChoose = (n: number, k: number) => {
  let sum = 0
  for (let i = 1; i <= k; i++) sum += Math.log(n - k + i) - Math.log(i)
  return sum
}

/** Exact McNemar: two-sided binomial test of the discordant counts against 1/2. */
export const mcnemarExact = (onlyA: number, onlyB: number): number => {
  const n = onlyA + onlyB
  if (n === 0) return 1
  const k = Math.min(onlyA, onlyB)
  let tail = 0
  for (let i = 0; i <= k; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2)
  return Math.min(1, 2 * tail)
}

/** The paired comparison of a and b over the unit ids both have (a percentile bootstrap of the mean difference). */
export const comparePaired = (
  a: { readonly name: string; readonly units: ReadonlyArray<{ readonly id: string; readonly score: number }> },
  b: { readonly name: string; readonly units: ReadonlyArray<{ readonly id: string; readonly score: number }> },
  resamples = 2000,
): PairedComparison => {
  const other = new Map(b.units.map((unit) => [unit.id, unit.score]))
  const differences: Array<number> = []
  let onlyA = 0
  let onlyB = 0
  let binary = true
  for (const unit of a.units) {
    const score = other.get(unit.id)
    if (score === undefined) continue
    differences.push(unit.score - score)
    if (![0, 1].includes(unit.score) || ![0, 1].includes(score)) binary = false
    if (unit.score > score) onlyA++
    if (unit.score < score) onlyB++
  }
  const n = differences.length
  const mean = n === 0 ? 0 : differences.reduce((x, y) => x + y, 0) / n
  const random = seeded(20241115)
  const means: Array<number> = []
  for (let r = 0; r < (n === 0 ? 0 : resamples); r++) {
    let sum = 0
    for (let i = 0; i < n; i++) sum += differences[Math.floor(random() * n)]!
    means.push(sum / n)
  }
  means.sort((x, y) => x - y)
  const at = (q: number) => (means.length === 0 ? 0 : means[Math.min(means.length - 1, Math.floor(q * means.length))]!)
  return {
    a: a.name,
    b: b.name,
    n,
    difference: 100 * mean,
    low: 100 * at(0.025),
    high: 100 * at(0.975),
    onlyA,
    onlyB,
    mcnemarP: binary ? mcnemarExact(onlyA, onlyB) : null,
  }
}

/** Every pair of configurations, in run order. */
export const allPairs = <T extends { readonly name: string }>(
  configs: ReadonlyArray<T>,
): ReadonlyArray<readonly [T, T]> => configs.flatMap((a, i) => configs.slice(i + 1).map((b) => [a, b] as const))

/** A number to the tenth, or "—" where there is none (shared by the printed summary and the report). */
export const fixed = (x: number | null, digits = 1) => (x !== null && Number.isFinite(x) ? x.toFixed(digits) : "—")

/** One pair's cells, as both the summary and the report show them. */
export const pairedCells = (p: PairedComparison): Array<string> => [
  `${p.a} − ${p.b}`,
  String(p.n),
  `${p.difference >= 0 ? "+" : ""}${fixed(p.difference)}`,
  `[${fixed(p.low)}, ${fixed(p.high)}]`,
  String(p.onlyA),
  String(p.onlyB),
  p.mcnemarP === null ? "—" : p.mcnemarP.toPrecision(3),
]
