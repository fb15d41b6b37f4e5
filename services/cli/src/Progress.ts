import type { ReasonEvent__Output } from "@stagebeam/proto"
import { Effect, Schedule } from "effect"

/** Steps of a strategy's search, for "step 2/4" (SENTENCE_BEAM's count is open). */
const STEPS: Readonly<Record<string, number>> = { STAGE_BEAM: 4, BEST_OF_N: 1, GREEDY: 1 }

/**
 * The one-line status of a running search, on stderr (a terminal): the current step, candidates sampled, matches
 * decided, elapsed time. Each event updates it; a ticker keeps the clock moving; it is wiped when the search ends,
 * so only the answer stays (on stdout).
 */
export const makeProgress = (write: (text: string) => void) => {
  const started = Date.now()
  let strategy = ""
  let candidates = 0
  let step = -1
  let kind = "waiting for admission"
  let sampled = 0
  let matches = 0
  let shown = false

  const line = () => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    const steps = STEPS[strategy]
    const where = step < 0 ? kind : `step ${step + 1}${steps === undefined ? "" : `/${steps}`} ${kind}`
    const detail = step < 0 ? "" : ` · candidates ${sampled}/${candidates} · matches ${matches}`
    return `${strategy === "" ? "" : `${strategy} N=${candidates} · `}${where}${detail} · ${seconds} s`
  }
  const render = () => {
    shown = true
    write(`\r\x1b[2K${line()}`)
  }
  return {
    update: (event: ReasonEvent__Output) => {
      if (event.searchStarted) {
        strategy = event.searchStarted.strategy
        candidates = event.searchStarted.candidates
        kind = "starting"
      } else if (event.stepStarted) {
        step = event.stepStarted.step
        kind = event.stepStarted.kind
        candidates = event.stepStarted.candidates
        sampled = 0
        matches = 0
      } else if (event.candidate) sampled++
      else if (event.match) matches++
      render()
    },
    /** Redraws every 250 ms while the effect runs. */
    ticking: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.raceFirst(
        effect,
        Effect.sync(render).pipe(Effect.repeat(Schedule.spaced("250 millis")), Effect.andThen(Effect.never)),
      ),
    clear: () => {
      if (shown) write("\r\x1b[2K")
    },
  }
}
