// What a Reason call's trace says about its shape: per step, the generation calls, whether a reasoning pre-check
// ran, and the judge matches and rounds. With fixed call latencies this gives the call's critical path.
import type { ReasonEvent__Output } from "@stagebeam/proto"

export interface StepShape {
  readonly step: number
  /** Generation calls (1, or 2 after a resample of an all-invalid step). */
  readonly generationCalls: number
  readonly precheck: boolean
  /** Matches settled by a judge call. */
  readonly judgeMatches: number
  /** Rounds that held at least one judge call: the judge calls this step waits for one after the other. */
  readonly judgeRounds: number
}

export const traceShape = (trace: ReadonlyArray<ReasonEvent__Output>): ReadonlyArray<StepShape> => {
  const steps = new Map<number, { attempts: Set<number>; precheck: boolean; matches: number; rounds: Set<number> }>()
  const at = (step: number) => {
    let s = steps.get(step)
    if (s === undefined) {
      s = { attempts: new Set(), precheck: false, matches: 0, rounds: new Set() }
      steps.set(step, s)
    }
    return s
  }
  for (const event of trace) {
    if (event.candidate) at(event.candidate.step).attempts.add(event.candidate.attempt)
    if (event.reasoningChecked) at(event.reasoningChecked.step).precheck = true
    if (event.match && event.match.decidedBy === "JUDGE") {
      const s = at(event.match.step)
      s.matches += 1
      s.rounds.add(event.match.round)
    }
  }
  return [...steps.entries()]
    .sort(([a], [b]) => a - b)
    .map(([step, s]) => ({
      step,
      generationCalls: s.attempts.size,
      precheck: s.precheck,
      judgeMatches: s.matches,
      judgeRounds: s.rounds.size,
    }))
}

/** The call's critical path: per step, its generation calls, its pre-check and its judge rounds, one after the other. */
export const traceCriticalPathMs = (shape: ReadonlyArray<StepShape>, generationMs: number, judgeMs: number): number =>
  shape.reduce(
    (total, s) => total + s.generationCalls * generationMs + ((s.precheck ? 1 : 0) + s.judgeRounds) * judgeMs,
    0,
  )

/** Calls on the critical path: each step's generation calls, pre-check and judge rounds. */
export const chainedCalls = (shape: ReadonlyArray<StepShape>): number =>
  shape.reduce((total, s) => total + s.generationCalls + (s.precheck ? 1 : 0) + s.judgeRounds, 0)
