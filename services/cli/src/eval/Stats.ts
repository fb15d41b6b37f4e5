/** Wilson score interval of a proportion (z = 1.96 for 95%). */
export const wilson = (successes: number, trials: number, z = 1.96): { low: number; high: number } => {
  if (trials === 0) return { low: 0, high: 1 }
  const p = successes / trials
  const z2 = z * z
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials)
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) }
}

/** The q-quantile (0..1) of values, nearest rank. */
export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

export const mean = (values: ReadonlyArray<number>): number =>
  values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length
