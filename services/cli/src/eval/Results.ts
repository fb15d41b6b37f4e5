import { appendFileSync, existsSync, readFileSync } from "node:fs"

/**
 * One answered (or failed) row of one configuration, as a line of DIR/results.jsonl: in the files' one convention
 * (snake_case, numbers; docs/api.md).
 */
export interface RowResult {
  /** The benchmark (its file's name without .tsv). */
  readonly dataset: string
  readonly strategy: string
  readonly index: string
  readonly category: string
  readonly answer: string
  /** The text VLMEvalKit scores (the conclusion, or the whole output with --score full); "" for a failed row. */
  readonly prediction: string
  readonly conclusion: string
  /** Wall-clock time of the call, as the client saw it. */
  readonly latency_ms: number
  readonly seed: number
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly generation_calls: number
  readonly judge_calls: number
  /** GPU slot time: each sample or judge call times the sequence slot it held on a server (from the trace). */
  readonly slot_ms: number
  readonly truncated: string
  /** Where the search's selection differed from the reference's (the response's selection.deviations). */
  readonly deviations: ReadonlyArray<string>
  /** The selection rules the search ran with (the response's selection, in snake_case), null for a failed row. */
  readonly selection: unknown
  /** The gRPC status name of a failed call (scored as an empty prediction), or null. */
  readonly error: string | null
  /** The gateway refused the row (admission, a token's concurrency, an invalid request) rather than failing it. */
  readonly refused: boolean
  readonly error_message?: string
}

/** Failures worth another try when the run resumes: the gateway could not answer then. */
const RETRYABLE = new Set(["UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "CANCELLED", "UNKNOWN"])

export const keyOf = (result: { readonly dataset: string; readonly strategy: string; readonly index: string }) =>
  `${result.dataset}\u0000${result.strategy}\u0000${result.index}`

/**
 * The results file of an evaluation: appended one line per row as each finishes, so a run that is stopped (even
 * killed mid-line) resumes with the rows it has; a line cut short by a kill is skipped. Failed rows stay in the
 * file (and are counted) until a later run answers them.
 */
export const openResults = (path: string) => {
  const finished = new Map<string, RowResult>()
  const failed = new Map<string, RowResult>()
  const keep = (result: RowResult) => {
    if (result.error !== null && RETRYABLE.has(result.error)) {
      finished.delete(keyOf(result))
      failed.set(keyOf(result), result)
    } else {
      finished.set(keyOf(result), result)
      failed.delete(keyOf(result))
    }
  }
  if (existsSync(path)) {
    const text = readFileSync(path, "utf8")
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue
      try {
        keep(JSON.parse(line) as RowResult)
      } catch {
        // a line cut short by a killed run
      }
    }
    // A kill may have cut the last line: the next one starts on its own line.
    if (text.length > 0 && !text.endsWith("\n")) appendFileSync(path, "\n")
  }
  return {
    finished,
    /** Rows whose last try failed for now (retried by the next run). */
    failed,
    append: (result: RowResult) => {
      appendFileSync(path, `${JSON.stringify(result)}\n`)
      keep(result)
    },
  }
}
