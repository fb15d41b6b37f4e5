import type { RowResult } from "./Results.ts"
import { mean, quantile, wilson } from "./Stats.ts"

export interface Accuracy {
  readonly n: number
  readonly correct: number
  readonly accuracy: number
  readonly low: number
  readonly high: number
}

const accuracyOf = (rows: ReadonlyArray<RowResult>): Accuracy => {
  const correct = rows.filter((row) => row.correct).length
  const interval = wilson(correct, rows.length)
  return { n: rows.length, correct, accuracy: rows.length === 0 ? 0 : correct / rows.length, ...interval }
}

export interface StrategySummary extends Accuracy {
  readonly strategy: string
  readonly errors: number
  readonly categories: Readonly<Record<string, Accuracy>>
  readonly l2Categories: Readonly<Record<string, Accuracy>>
  /** Per question: GPU slot-seconds, tokens, upstream calls. */
  readonly slotSeconds: number
  readonly completionTokens: number
  readonly promptTokens: number
  readonly calls: number
  readonly latencyP50: number
  readonly latencyP90: number
  readonly latencies: ReadonlyArray<number>
}

const groupBy = (rows: ReadonlyArray<RowResult>, key: (row: RowResult) => string) => {
  const groups = new Map<string, Array<RowResult>>()
  for (const row of rows) groups.set(key(row), [...(groups.get(key(row)) ?? []), row])
  return Object.fromEntries(
    [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, group]) => [name, accuracyOf(group)]),
  )
}

/** Accuracy (with 95% Wilson intervals) overall and per category, cost and latency, per strategy in run order. */
export const summarize = (
  rows: ReadonlyArray<RowResult>,
  strategies: ReadonlyArray<string>,
): ReadonlyArray<StrategySummary> =>
  strategies.map((strategy) => {
    const mine = rows.filter((row) => row.strategy === strategy)
    const answered = mine.filter((row) => row.error === null)
    const latencies = answered.map((row) => row.latency_ms / 1000)
    return {
      strategy,
      ...accuracyOf(mine),
      errors: mine.length - answered.length,
      categories: groupBy(mine, (row) => row.category),
      l2Categories: groupBy(mine, (row) => row.l2_category),
      slotSeconds: mean(answered.map((row) => row.slot_ms / 1000)),
      completionTokens: mean(answered.map((row) => row.completion_tokens)),
      promptTokens: mean(answered.map((row) => row.prompt_tokens)),
      calls: mean(answered.map((row) => row.generation_calls + row.judge_calls)),
      latencyP50: quantile(latencies, 0.5),
      latencyP90: quantile(latencies, 0.9),
      latencies,
    }
  })

const percent = (x: number) => `${(100 * x).toFixed(1)}%`
const fixed = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "—")

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  return [line(header), ...rows.map(line)].join("\n")
}

/** The summary as printed: one row per strategy, then accuracy per category. */
export const formatSummary = (summaries: ReadonlyArray<StrategySummary>): string => {
  const overall = table(
    ["strategy", "n", "accuracy", "95% CI", "errors", "GPU slot-s/q", "tokens/q", "calls/q", "p50 s", "p90 s"],
    summaries.map((s) => [
      s.strategy,
      String(s.n),
      percent(s.accuracy),
      `[${fixed(100 * s.low)}, ${fixed(100 * s.high)}]`,
      String(s.errors),
      fixed(s.slotSeconds, 2),
      fixed(s.completionTokens, 0),
      fixed(s.calls, 1),
      fixed(s.latencyP50, 2),
      fixed(s.latencyP90, 2),
    ]),
  )
  const categories = [...new Set(summaries.flatMap((s) => Object.keys(s.categories)))]
  const byCategory = table(
    ["category", ...summaries.map((s) => s.strategy)],
    categories.map((category) => [
      category,
      ...summaries.map((s) => {
        const a = s.categories[category]
        return a === undefined ? "—" : `${percent(a.accuracy)} (${a.correct}/${a.n})`
      }),
    ]),
  )
  return `${overall}\n\n${byCategory}`
}
