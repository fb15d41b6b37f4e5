import { Effect } from "effect"
import type { Candidate } from "./Candidate.ts"
import { mergeKey, type StepSpec } from "./Entrant.ts"
import { checkOnce } from "./PreCheck.ts"
import type { Run } from "./Run.ts"
import { sample } from "./Sampling.ts"
import { pickByScore } from "./Scoring.ts"
import { deriveSeed, makeRng } from "./Seeds.ts"
import { playOf } from "./StepMatch.ts"
import { type Played, plainSchedule, type StepSchedule } from "./StepSchedule.ts"

export interface StepChoice {
  readonly candidate: Candidate
  readonly by: "TOURNAMENT" | "ONLY_CANDIDATE" | "CUT_SHORT" | "SCORE"
}

/**
 * One search step: sample N candidates, and pick one by tournament under the run's selection rules (duplicates,
 * pre-check, match rules: see StepMatch.ts's playOf). With a pointwise judge there is no tournament (nor pre-check):
 * every distinct candidate is scored in one scoring round and the highest kept (pickByScore). When the calls run
 * (speculation, stragglers) is the `schedule`'s business: it changes when, never what is chosen.
 */
export const runStep = Effect.fn("search.step")(function* (
  run: Run,
  spec: StepSpec,
  schedule: StepSchedule = plainSchedule(run, spec),
) {
  yield* Effect.annotateCurrentSpan({ step: spec.step, kind: spec.kind, candidates: spec.n })
  yield* run.trace.emitNow({ _tag: "StepStarted", step: spec.step, kind: spec.kind, candidates: spec.n })
  // Where the step fails, whatever its schedule started ahead is interrupted: none of it will be used.
  return yield* decide(run, spec, schedule).pipe(Effect.onError(() => schedule.settle(undefined)))
})

const decide = Effect.fnUntraced(function* (run: Run, spec: StepSpec, schedule: StepSchedule) {
  const rules = run.selection.rules
  const choose = (candidate: Candidate, by: StepChoice["by"]) =>
    Effect.as(
      run.trace.emitNow({
        _tag: "StepChosen",
        step: spec.step,
        kind: spec.kind,
        index: candidate.index,
        text: candidate.text,
        by,
      }),
      { candidate, by } satisfies StepChoice,
    )
  // A tournament's winner; a step cut short ends the search, so nothing started ahead is kept.
  // A chain, not a generator made per step (StepMatch's playMatch says why).
  const chooseWinner = (played: Played) => {
    const chosen = played.entrants[played.winner]!.candidate
    const by = played.cutShort ? "CUT_SHORT" : played.entrants.length === 1 ? "ONLY_CANDIDATE" : "TOURNAMENT"
    return Effect.andThen(schedule.settle(played.cutShort ? undefined : chosen), () => choose(chosen, by))
  }
  const judge = run.judging
  if (judge._tag === "Pointwise") {
    // A pointwise judge scores the whole field at once: its steps are sampled first whatever the schedule.
    const entrants = schedule._tag === "SampledFirst" ? yield* schedule.sample : yield* sample(run, spec)
    const picked = yield* pickByScore(run, judge, spec, entrants)
    return yield* choose(picked.candidate, picked.by)
  }
  if (schedule._tag === "AsTheyCome") {
    return yield* chooseWinner(yield* schedule.tournament(playOf(run, judge, spec, undefined)))
  }
  const entrants = yield* schedule.sample
  if (new Set(entrants.map(mergeKey)).size === 1) {
    // One text only. WEIGHT: any of the copies, each as likely (as the coins of a tournament would make them).
    const pick =
      rules.duplicates === "MERGE"
        ? 0
        : Math.floor(makeRng(deriveSeed(run.seed, "identical", spec.step))() * entrants.length)
    const chosen = entrants[pick]!.candidate
    // Speculation heard it finish: the call started for its text is the next step's, as the plain search makes it.
    yield* schedule.settle(chosen)
    return yield* choose(chosen, "ONLY_CANDIDATE")
  }
  const correctOnce =
    spec.kind === "REASONING" && rules.reasoningCheck === "ONCE"
      ? yield* checkOnce(run, judge, spec, entrants)
      : undefined
  return yield* chooseWinner(yield* schedule.tournament(entrants, playOf(run, judge, spec, correctOnce)))
})
