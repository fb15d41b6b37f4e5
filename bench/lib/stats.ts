import { wilson } from "@stagebeam/cli"
// Small statistics for printed figures.

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const sum = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0)

export const mean = (xs: ReadonlyArray<number>): number => (xs.length === 0 ? Number.NaN : sum(xs) / xs.length)

/** Normal-approximation interval of a mean (z = 1.96 for 95%). */
export const meanInterval = (xs: ReadonlyArray<number>, z = 1.96): { low: number; high: number } => {
  const m = mean(xs)
  if (xs.length < 2) return { low: m, high: m }
  const variance = sum(xs.map((x) => (x - m) ** 2)) / (xs.length - 1)
  const half = z * Math.sqrt(variance / xs.length)
  return { low: m - half, high: m + half }
}

/** The 95% Wilson score interval of a proportion: the eval command's, so benchmarks and `stagebeam eval` agree. */
export { wilson }

/** Newcombe's interval for a difference of two independent proportions, from their Wilson intervals. */
export const differenceInterval = (
  a: { successes: number; trials: number },
  b: { successes: number; trials: number },
): { diff: number; low: number; high: number } => {
  const pa = a.successes / a.trials
  const pb = b.successes / b.trials
  const wa = wilson(a.successes, a.trials)
  const wb = wilson(b.successes, b.trials)
  const diff = pa - pb
  return {
    diff,
    low: diff - Math.sqrt((pa - wa.low) ** 2 + (wb.high - pb) ** 2),
    high: diff + Math.sqrt((wa.high - pa) ** 2 + (pb - wb.low) ** 2),
  }
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export const quantile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
