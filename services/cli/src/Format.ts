import type { ReasonEvent__Output, ReasonResponse__Output } from "@stagebeam/proto"

const clip = (text: string, width = 100) => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat
}

/** A human-readable answer: the conclusion, then what was asked for. */
export const formatResponse = (response: ReasonResponse__Output): string => {
  const lines = [response.conclusion]
  for (const stage of response.stages) lines.push("", `[${stage.name}]`, stage.text)
  for (const event of response.trace) lines.push(formatEvent(event))
  const usage = response.usage
  lines.push(
    "",
    `(${response.strategy}/${response.tournament}, seed ${response.seed}, ${response.elapsedMs} ms, ` +
      `${usage?.generationCalls ?? 0} generation + ${usage?.judgeCalls ?? 0} judge calls, ` +
      `${usage?.promptTokens ?? 0} prompt + ${usage?.completionTokens ?? 0} completion tokens` +
      `${response.truncatedReason === "" ? "" : `, cut short: ${response.truncatedReason}`})`,
    selectionLine(response.selection),
  )
  return lines.join("\n")
}

/** Which preset ran, and where its rules deviate from the reference's. */
const selectionLine = (selection: ReasonResponse__Output["selection"]): string =>
  selection === null
    ? ""
    : `(preset ${selection.preset}; ${
        selection.deviations.length === 0
          ? "the reference's selection exactly"
          : `deviates from the reference in: ${selection.deviations.join(", ")}`
      })`

/** One line per search event. */
export const formatEvent = (event: ReasonEvent__Output): string => {
  const at = `${String(event.atMs).padStart(6)} ms`
  if (event.searchStarted) {
    const started = event.searchStarted
    return `${at}  ${started.strategy}, ${started.candidates} candidates, seed ${started.seed} ${selectionLine(started.selection)}`
  }
  if (event.stepStarted)
    return `${at}  step ${event.stepStarted.step} ${event.stepStarted.kind}: ${event.stepStarted.candidates} candidates`
  if (event.candidate) {
    const c = event.candidate
    return `${at}    #${c.index} ${c.valid ? "" : `(invalid: ${c.problem}) `}${clip(c.text)} [${c.server}]`
  }
  if (event.reasoningChecked) {
    return `${at}    check #${event.reasoningChecked.index}: ${event.reasoningChecked.correct ? "correct" : "incorrect"}`
  }
  if (event.match) {
    const m = event.match
    return `${at}    round ${m.round}: #${m.first} vs #${m.second} → #${m.winner} (${clip(m.verdict, 60)})`
  }
  if (event.stepChosen) return `${at}  chose #${event.stepChosen.index}: ${clip(event.stepChosen.text)}`
  if (event.cutShort) return `${at}  cut short (${event.cutShort.reason}): ${event.cutShort.detail}`
  if (event.done) return `${at}  done\n\n${formatResponse(event.done)}`
  return `${at}  ${event.event}`
}
