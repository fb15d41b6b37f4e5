import { Effect } from "effect"
import type { StepSpec } from "./Entrant.ts"
import { matchesAsTheyCome } from "./Listening.ts"
import { discard, type Prefetched } from "./Prefetch.ts"
import type { Run } from "./Run.ts"
import type { NextStep } from "./Speculation.ts"
import { speculativeSchedule, speculatorFor } from "./SpeculativeSchedule.ts"
import { plainSchedule, type StepSchedule } from "./StepSchedule.ts"
import { stragglersSchedule } from "./StragglersSchedule.ts"

/** The schedules of one search's steps, carrying a call started ahead from a step to the next. */
export interface Schedules {
  /**
   * The schedule of one step; `next`: the step that follows a candidate if it wins (undefined: none to start ahead).
   * It takes the call the step before kept for it.
   */
  readonly forStep: (spec: StepSpec, next?: NextStep<StepSpec>) => StepSchedule
  /** The search is over: a call kept for a step that never ran is interrupted. */
  readonly close: Effect.Effect<void>
}

/**
 * Picks each step's schedule from the run's (resolved once, see ScheduleOptions.ts):
 * - stragglers, unless the judge is pointwise (it scores every candidate at once) or the step is a reasoning with the
 *   pre-check ONCE (it needs every reasoning first);
 * - speculative where the strategy has a next step to start ahead and speculation is not OFF;
 * - else plain.
 */
export const makeSchedules = (run: Run): Schedules => {
  let carried: Prefetched | undefined
  const keep = (kept: Prefetched | undefined) => {
    carried = kept
  }
  return {
    forStep: (spec, next) => {
      const prefetched = carried
      carried = undefined
      const speculator =
        next === undefined || run.schedule.speculation === "OFF" || run.judging._tag === "Pointwise"
          ? undefined
          : speculatorFor(run, next)
      if (matchesAsTheyCome(run, spec)) return stragglersSchedule(run, spec, prefetched, speculator, keep)
      if (speculator !== undefined) return speculativeSchedule(run, spec, prefetched, speculator, keep)
      return plainSchedule(run, spec, prefetched)
    },
    close: Effect.suspend(() => {
      const left = carried
      carried = undefined
      return discard(left)
    }),
  }
}
