import type { Layout } from "./Dataset.ts"
import { fixed, type PairedComparison, pairedCells } from "./Paired.ts"
import { PAPER_COLUMNS, PAPER_ROWS } from "./PaperTable.ts"
import type { RowResult } from "./Results.ts"
import type { DatasetScore } from "./Scoring.ts"
import { mean, quantile, wilson } from "./Stats.ts"

/** One configuration on one benchmark. */
export interface ConfigurationSummary {
  readonly strategy: string
  /** Rows in the benchmark, rows answered, rows that failed (counted as empty predictions), rows refused. */
  readonly n: number
  readonly answered: number
  readonly failed: number
  readonly refused: number
  /** The benchmark's figure (0–100) as the paper reports it, and VLMEvalKit's other figures. */
  readonly score: number
  /** 95% Wilson interval of the score, for 0/1-scored units (null for MMVet's graded scores). */
  readonly low: number | null
  readonly high: number | null
  readonly metrics: Readonly<Record<string, number>>
  /** Per question: GPU slot-seconds, tokens, upstream calls. */
  readonly slotSeconds: number
  readonly completionTokens: number
  readonly calls: number
  readonly latencyP50: number
  readonly latencyP90: number
  readonly latencies: ReadonlyArray<number>
  /** Every way the searches' selection differed from the reference's (selection.deviations, over all rows). */
  readonly deviations: ReadonlyArray<string>
  readonly files: { readonly predictions: string; readonly scoreFile: string }
}

export interface BenchmarkSummary {
  readonly dataset: string
  readonly layout: Layout
  /** The paper's column it fills. */
  readonly column: string
  readonly headline: string
  readonly configurations: ReadonlyArray<ConfigurationSummary>
  readonly paired: ReadonlyArray<PairedComparison>
  /** Per question (or MMBench group): each configuration's prediction and score. */
  readonly questions: ReadonlyArray<{
    readonly index: string
    readonly answer: string
    readonly byStrategy: Readonly<
      Record<string, { readonly prediction: string; readonly extracted: string; readonly score: number }>
    >
  }>
}

export const summarizeConfiguration = (
  strategy: string,
  n: number,
  rows: ReadonlyArray<RowResult>,
  forNow: { readonly failedForNow: number; readonly refusedForNow: number },
  score: DatasetScore,
  files: ConfigurationSummary["files"],
): ConfigurationSummary => {
  const answered = rows.filter((row) => row.error === null)
  const latencies = answered.map((row) => row.latency_ms / 1000)
  // MMVet's graded scores have no binomial interval (the paired bootstrap still applies).
  const binary = score.headlineName !== "GPT score" && score.units.every((unit) => unit.score === 0 || unit.score === 1)
  const interval = binary
    ? wilson(score.units.filter((unit) => unit.score === 1).length, score.units.length)
    : undefined
  return {
    strategy,
    n,
    answered: answered.length,
    failed: forNow.failedForNow + rows.filter((row) => row.error !== null && !row.refused).length,
    refused: forNow.refusedForNow + rows.filter((row) => row.refused).length,
    score: score.headline,
    // HallusionBench's headline averages three figures: the interval is aAcc's.
    low: interval === undefined ? null : 100 * interval.low,
    high: interval === undefined ? null : 100 * interval.high,
    metrics: score.metrics,
    slotSeconds: mean(answered.map((row) => row.slot_ms / 1000)),
    completionTokens: mean(answered.map((row) => row.completion_tokens)),
    calls: mean(answered.map((row) => row.generation_calls + row.judge_calls)),
    latencyP50: quantile(latencies, 0.5),
    latencyP90: quantile(latencies, 0.9),
    latencies,
    deviations: [...new Set(rows.flatMap((row) => row.deviations ?? []))].sort(),
    files,
  }
}

export const textTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  return [line(header), ...rows.map(line)].join("\n")
}

/**
 * The paper's table: its benchmarks as columns (and any other benchmark run), its published rows, then each
 * configuration run here ("—" where a benchmark was not run; the average only when all six were).
 */
export const paperTable = (benchmarks: ReadonlyArray<BenchmarkSummary>) => {
  const extra = benchmarks.map((b) => b.column).filter((c) => !(PAPER_COLUMNS as ReadonlyArray<string>).includes(c))
  const columns = [...PAPER_COLUMNS, ...new Set(extra)]
  const strategies = [...new Set(benchmarks.flatMap((b) => b.configurations.map((c) => c.strategy)))]
  const rows: Array<{ name: string; cells: Array<string>; average: string; measured: boolean }> = PAPER_ROWS.map(
    (row) => ({
      name: row.name,
      cells: columns.map((_, i) => (i < row.scores.length ? row.scores[i]!.toFixed(1) : "—")),
      average: row.average.toFixed(1),
      measured: false,
    }),
  )
  for (const strategy of strategies) {
    const scores = columns.map((column) => {
      const benchmark = benchmarks.find((b) => b.column === column)
      return benchmark?.configurations.find((c) => c.strategy === strategy)?.score
    })
    const paper = scores.slice(0, PAPER_COLUMNS.length)
    rows.push({
      name: strategy,
      cells: scores.map((s) => (s === undefined ? "—" : s.toFixed(1))),
      average: paper.every((s) => s !== undefined)
        ? (paper.reduce((a, b) => a! + b!, 0)! / paper.length).toFixed(1)
        : "—",
      measured: true,
    })
  }
  return { columns: [...columns, "Average"], rows }
}

/** The summary as printed: the paper's table, then per benchmark its configurations and paired comparisons. */
export const formatSummary = (benchmarks: ReadonlyArray<BenchmarkSummary>, banner: string | undefined): string => {
  const paper = paperTable(benchmarks)
  const parts = [
    ...(banner === undefined ? [] : [banner, ""]),
    textTable(
      ["configuration", ...paper.columns],
      paper.rows.map((row) => [row.name, ...row.cells, row.average]),
    ),
  ]
  for (const benchmark of benchmarks) {
    parts.push(
      "",
      `${benchmark.dataset} (${benchmark.layout}; ${benchmark.headline})`,
      textTable(
        [
          "strategy",
          "n",
          "score",
          "95% CI",
          "failed",
          "refused",
          "GPU slot-s/q",
          "tokens/q",
          "calls/q",
          "p50 s",
          "p90 s",
        ],
        benchmark.configurations.map((s) => [
          s.strategy,
          String(s.n),
          fixed(s.score),
          s.low === null ? "—" : `[${fixed(s.low)}, ${fixed(s.high)}]`,
          String(s.failed),
          String(s.refused),
          fixed(s.slotSeconds, 2),
          fixed(s.completionTokens, 0),
          fixed(s.calls, 1),
          fixed(s.latencyP50, 2),
          fixed(s.latencyP90, 2),
        ]),
      ),
    )
    if (benchmark.paired.length > 0) {
      parts.push(
        "",
        textTable(
          [
            "paired",
            "n",
            "difference",
            "95% paired bootstrap",
            "only first right",
            "only second right",
            "McNemar exact p",
          ],
          benchmark.paired.map(pairedCells),
        ),
      )
    }
  }
  return parts.join("\n")
}
