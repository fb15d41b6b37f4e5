import { appendFileSync, existsSync, readFileSync } from "node:fs"

/** One answered (or failed) row of one strategy, as a line of DIR/results.jsonl. */
export interface RowResult {
  readonly strategy: string
  readonly index: string
  readonly category: string
  readonly l2_category: string
  readonly answer: string
  /** The option letter extracted from the conclusion (VLMEvalKit's can_infer), or null. */
  readonly prediction: string | null
  readonly correct: boolean
  readonly conclusion: string
  /** Wall-clock time of the call, as the client saw it. */
  readonly latency_ms: number
  readonly seed: string
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly generation_calls: number
  readonly judge_calls: number
  /** GPU slot time: each sample or judge call times the sequence slot it held on a server (from the trace). */
  readonly slot_ms: number
  readonly truncated: string
  /** The gRPC status name of a failed call (counted as wrong), or null. */
  readonly error: string | null
  readonly error_message?: string
}

/** Failures worth another try when the run resumes: the gateway could not answer then. */
const RETRYABLE = new Set(["UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "CANCELLED", "UNKNOWN"])

export const keyOf = (result: { readonly strategy: string; readonly index: string }) =>
  `${result.strategy}\u0000${result.index}`

/**
 * The results file of an evaluation: appended one line per row as each finishes, so a run that is stopped (even
 * killed mid-line) resumes with the rows it has; a line cut short by a kill is skipped.
 */
export const openResults = (path: string) => {
  const finished = new Map<string, RowResult>()
  if (existsSync(path)) {
    const text = readFileSync(path, "utf8")
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue
      try {
        const result = JSON.parse(line) as RowResult
        if (result.error !== null && RETRYABLE.has(result.error)) finished.delete(keyOf(result))
        else finished.set(keyOf(result), result)
      } catch {
        // a line cut short by a killed run
      }
    }
    // A kill may have cut the last line: the next one starts on its own line.
    if (text.length > 0 && !text.endsWith("\n")) appendFileSync(path, "\n")
  }
  return {
    finished,
    append: (result: RowResult) => {
      appendFileSync(path, `${JSON.stringify(result)}\n`)
      if (result.error === null || !RETRYABLE.has(result.error)) finished.set(keyOf(result), result)
    },
  }
}
