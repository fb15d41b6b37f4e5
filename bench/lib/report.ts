// Printing a benchmark's figures as they come and saving them to bench/results/<name>.txt.
import { mkdirSync, writeFileSync } from "node:fs"
import { availableParallelism, loadavg } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "results")

export interface Report {
  readonly line: (text?: string) => void
  readonly table: (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => void
  /** Writes everything printed so far to bench/results/<name>.txt. */
  readonly save: () => string
}

export const makeReport = (name: string): Report => {
  const lines: Array<string> = []
  const line = (text = "") => {
    console.log(text)
    lines.push(text)
  }
  const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
    const format = (cells: ReadonlyArray<string>) =>
      cells
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join("  ")
        .trimEnd()
    line(format(header))
    for (const row of rows) line(format(row))
  }
  const save = () => {
    mkdirSync(resultsDir, { recursive: true })
    const path = join(resultsDir, `${name}.txt`)
    writeFileSync(path, `${lines.join("\n")}\n`)
    return path
  }
  return { line, table, save }
}

export const fixed = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : "-")
export const percent = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`

/**
 * The machine as it was when a run printed this: its cores and load average (the run's own processes included), so a
 * results file says whether other work shared the machine instead of a fixed sentence that may not be true.
 */
export const machineLine = (): string => {
  const [one, five, fifteen] = loadavg().map((load) => load.toFixed(1))
  return (
    `Machine: ${availableParallelism()} cores, load average ${one} ${five} ${fifteen} (1, 5, 15 min) when this was ` +
    "printed, this run's own processes included. A load well above what the run itself makes means other work " +
    "shared the cores: absolute figures move with it, same-run ratios less."
  )
}
