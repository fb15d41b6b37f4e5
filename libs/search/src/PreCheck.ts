import { Effect } from "effect"
import type { Entrant, StepSpec } from "./Entrant.ts"
import type { PairwiseCalls } from "./JudgeCalls.ts"
import type { Run } from "./Run.ts"
import { deriveSeed } from "./Seeds.ts"

/** One pre-check call on an entrant's text, traced: whether the judge calls its reasoning correct. */
export const check = Effect.fnUntraced(function* (
  run: Run,
  judge: PairwiseCalls,
  spec: StepSpec,
  entrant: Entrant,
  hint: string | undefined,
  seed: number,
) {
  const startedAtMs = yield* run.trace.elapsed
  const verdict = yield* judge.checkReasoning(spec.step, {
    question: run.request.question,
    hint,
    reasoning: entrant.judged ?? "",
    seed,
    wording: run.selection.rules.wording,
  })
  yield* run.trace.emit({
    _tag: "ReasoningChecked",
    step: spec.step,
    index: entrant.candidate.index,
    correct: verdict.correct,
    raw: verdict.raw,
    server: verdict.server,
    startedAtMs,
    endedAtMs: yield* run.trace.elapsed,
  })
  return verdict.correct
})

/**
 * The pre-check ONCE: each distinct readable text checked once, all in parallel, before the tournament. Returns
 * correctness by key; an entrant without a readable reasoning counts as incorrect, unchecked.
 */
export const checkOnce = Effect.fnUntraced(function* (
  run: Run,
  judge: PairwiseCalls,
  spec: StepSpec,
  entrants: ReadonlyArray<Entrant>,
) {
  const firstOfKey = new Map<string, Entrant>()
  for (const entrant of entrants) {
    if (entrant.key !== undefined && !firstOfKey.has(entrant.key)) firstOfKey.set(entrant.key, entrant)
  }
  const checked = yield* Effect.all(
    [...firstOfKey].map(([key, entrant]) =>
      Effect.map(
        check(
          run,
          judge,
          spec,
          entrant,
          entrant.hint,
          deriveSeed(run.seed, "check", spec.step, entrant.candidate.index),
        ),
        (correct) => [key, correct] as const,
      ),
    ),
    { concurrency: "unbounded" },
  )
  const correct = new Map(checked)
  return (entrant: Entrant): boolean => (entrant.key === undefined ? false : (correct.get(entrant.key) ?? false))
})
