import type { ReasonEvent__Output, ReasonResponse__Output } from "@stagebeam/proto"
import { clip, flatten, previews } from "./Previews.ts"

/** Which judge and preset ran, and where its rules deviate from the reference's. */
export const selectionLine = (selection: ReasonResponse__Output["selection"]): string =>
  selection === null
    ? ""
    : `(${selection.judge === "" ? "" : `judge ${selection.judge}, `}preset ${selection.preset}; ${
        selection.deviations.length === 0
          ? "the reference's selection exactly"
          : `deviates from the reference in: ${selection.deviations.join(", ")}`
      })`

/** What the search cost and how it ended, on one line. */
export const summaryLine = (response: ReasonResponse__Output): string => {
  const usage = response.usage
  return (
    `(${response.strategy}/${response.tournament}, seed ${response.seed}, ${response.elapsedMs} ms, ` +
    `${usage?.generationCalls ?? 0} generation + ${usage?.judgeCalls ?? 0} judge calls, ` +
    `${usage?.promptTokens ?? 0} prompt + ${usage?.completionTokens ?? 0} completion tokens` +
    `${response.truncatedReason === "" ? "" : `, cut short: ${response.truncatedReason}`})`
  )
}

/** The answer as stdout shows it: the conclusion, then the stages when asked for. */
export const formatAnswer = (response: ReasonResponse__Output): string => {
  const lines = [response.conclusion]
  for (const stage of response.stages) lines.push("", `[${stage.name}]`, stage.text)
  return lines.join("\n")
}

/** The whole response for a reader: the answer, the trace when asked for, what it cost, the selection. */
export const formatResponse = (response: ReasonResponse__Output): string => {
  const lines = [formatAnswer(response)]
  if (response.trace.length > 0)
    lines.push("", ...formatEvents(response.trace, response.selection?.bothOrders === true))
  lines.push("", summaryLine(response), selectionLine(response.selection))
  return lines.join("\n")
}

const at = (event: ReasonEvent__Output) => `${String(event.atMs).padStart(6)} ms`

/**
 * How a match was decided: by the judge (unmarked, or an unclear verdict), by the margin or a coin when its verdicts
 * split (with judge.both_orders, a split is an order flip: the verdict changed with the order), a verdict re-asked
 * with the order swapped, or without a judge.
 */
const matchLine = (event: ReasonEvent__Output, bothOrders: boolean): string => {
  const m = event.match!
  const split = m.votesFirst > 0 && m.votesSecond > 0
  const tags = [
    ...(split
      ? [bothOrders && m.votesFirst + m.votesSecond === 2 ? "order flip" : `votes ${m.votesFirst}:${m.votesSecond}`]
      : []),
    ...(m.reasked ? ["re-asked swapped"] : []),
    ...(m.decidedBy !== "JUDGE" ? [m.decidedBy.toLowerCase()] : !m.explicit && !split ? ["unclear verdict"] : []),
  ]
  const how = tags.length === 0 ? "" : ` [${tags.join(", ")}]`
  const verdict = m.decidedBy === "JUDGE" ? ` "${clip(flatten(m.verdict.split("\n")[0] ?? ""), 60)}"` : ""
  return `${at(event)}    round ${m.round}: #${m.first} vs #${m.second} → #${m.winner}${how}${verdict}`
}

/**
 * Turns events into lines as they arrive. The candidates of a step are held until the step goes on, so their
 * previews can show where they differ; duplicates are marked (merged, or the same text as an earlier candidate).
 */
export const makeEventPrinter = (bothOrders: boolean) => {
  let held: Array<ReasonEvent__Output> = []
  const flush = (): Array<string> => {
    if (held.length === 0) return []
    const candidates = held.map((event) => event.candidate!)
    const shown = previews(candidates.map((candidate) => candidate.text))
    const firstOf = new Map<string, number>()
    const lines = held.map((event, i) => {
      const c = candidates[i]!
      const text = flatten(c.text)
      const same = firstOf.get(text)
      if (same === undefined) firstOf.set(text, c.index)
      const mark =
        c.mergedIntoPlusOne > 0
          ? `(merged into #${c.mergedIntoPlusOne - 1})`
          : same !== undefined
            ? `(same text as #${same})`
            : ""
      const invalid = c.valid ? "" : `(invalid: ${c.problem}) `
      const attempt = c.attempt > 0 ? "(resampled) " : ""
      return `${at(event)}    #${c.index} ${attempt}${invalid}${mark === "" ? shown[i] : mark} [${c.server}]`
    })
    held = []
    return lines
  }
  return (event: ReasonEvent__Output): ReadonlyArray<string> => {
    if (event.candidate) {
      held.push(event)
      return []
    }
    const before = flush()
    if (event.searchStarted) {
      const s = event.searchStarted
      return [
        ...before,
        `${at(event)}  ${s.strategy}, ${s.candidates} candidates, seed ${s.seed} ${selectionLine(s.selection)}`,
      ]
    }
    if (event.stepStarted) {
      const s = event.stepStarted
      return [...before, `${at(event)}  step ${s.step} ${s.kind}: ${s.candidates} candidates`]
    }
    if (event.reasoningChecked) {
      const r = event.reasoningChecked
      return [...before, `${at(event)}    check #${r.index}: ${r.correct ? "correct" : "incorrect"}`]
    }
    if (event.match) return [...before, matchLine(event, bothOrders)]
    if (event.stepChosen) {
      const s = event.stepChosen
      const by = s.by === "TOURNAMENT" ? "" : ` (${s.by.toLowerCase().replace("_", " ")})`
      return [...before, `${at(event)}  chose #${s.index}${by}: ${clip(flatten(s.text), 100)}`]
    }
    if (event.cutShort)
      return [...before, `${at(event)}  cut short (${event.cutShort.reason}): ${event.cutShort.detail}`]
    if (event.done) return [...before, `${at(event)}  done`]
    return before
  }
}

/** A list of events (a trace) as lines. */
export const formatEvents = (
  events: ReadonlyArray<ReasonEvent__Output>,
  bothOrders: boolean,
): ReadonlyArray<string> => {
  const print = makeEventPrinter(bothOrders)
  return [...events.flatMap((event) => print(event)), ...print({ atMs: "0" } as ReasonEvent__Output)]
}
