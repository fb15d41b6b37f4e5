import type { StepSpec } from "./Entrant.ts"
import type { Run } from "./Run.ts"

/**
 * Whether a step matches its samples as they finish (stragglers): not with a pointwise judge (it scores every
 * candidate at once), nor for a reasoning under the pre-check ONCE (it needs every reasoning first).
 */
export const matchesAsTheyCome = (run: Run, spec: StepSpec): boolean =>
  run.schedule.stragglers &&
  run.judging._tag === "Pairwise" &&
  !(spec.kind === "REASONING" && run.selection.rules.reasoningCheck === "ONCE")

/**
 * Whether a step listens to its call's samples as they finish: stragglers, or speculation on each finished sample (a width of
 * N or more). Yes where that depends on a step after it, which is not known here. A call made ahead for a step that
 * will not listen is made unstreamed: a stream parsed token by token for no one cost a third of the gateway's
 * upstream calls (issue #24).
 */
export const hearsSamples = (run: Run, spec: StepSpec): boolean =>
  matchesAsTheyCome(run, spec) ||
  (run.schedule.speculation !== "OFF" && run.schedule.speculationWidth >= spec.n && run.judging._tag === "Pairwise")
