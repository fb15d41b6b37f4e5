import { closeTag, NO_IMAGE_CAPTION, openTag, type Stage } from "@stagebeam/cot"
import { Effect } from "effect"
import type { Entrant, StepSpec } from "./Entrant.ts"
import type { DeadlineReached } from "./Errors.ts"
import type { PointwiseCalls } from "./JudgeCalls.ts"
import type { Run } from "./Run.ts"
import { sample } from "./Sampling.ts"
import { rankByScore, type ScoredEntrant, scoreEntrants, scoreTexts } from "./Scoring.ts"
import { deriveSeed } from "./Seeds.ts"

/** A reasoning of the pool: the answer up to and including it, and its score. */
interface PoolEntry extends ScoredEntrant {
  readonly prefix: string
}

/** A step the deadline interrupted gives nothing: the search keeps what it has (the run is already cut short). */
const orNothing = <A, E, R>(effect: Effect.Effect<A, E | DeadlineReached, R>) =>
  effect.pipe(
    Effect.map((value): A | undefined => value),
    Effect.catchTag("DeadlineReached", () => Effect.succeed(undefined)),
  )

const specOf = (step: number, kind: Stage, prefix: string, n: number): StepSpec => ({
  step,
  kind,
  prefix,
  n: Math.max(1, n),
  stop: [closeTag(kind)],
  hint: undefined,
})

/**
 * SWIRES, the stage-wise retracing search of LLaVA-CoT's inference/VLMEvalKit/swires.py, over a pointwise judge
 * (the code's reward model, internlm-xcomposer2d5-7b-reward):
 * 1. SUMMARY: one sample, never searched.
 * 2. A pass: `candidates` captions continuing the summary, scored (inner text, question + the caption instruction),
 *    the best `keep` kept; `reasoningsPerCaption` reasonings continuing each kept caption, each scored (inner text,
 *    question + the reasoning instruction) and added to one pool that persists across passes.
 * 3. When the pool's second-best score is not above `cutoff`, retrace: another pass from the same summary, at most
 *    `maxRetraces` times; then go on regardless.
 * 4. CONCLUSION: one sample continuing each of the `conclusions` best reasonings of the pool; each whole answer is
 *    scored (the plain question) and the best wins.
 * Where the code differs from this: it samples the captions with four calls (here one n=4 call; the same
 * distribution), scores each reasoning with its own call (here one batched call per caption), breaks score ties by
 * numpy's argsort (here a seeded order), and compares the reward model's returned list with a float (a TypeError
 * as written; the intent is a scalar per candidate, as here).
 */
export const swires = Effect.fnUntraced(function* (run: Run, scorer: PointwiseCalls) {
  const options = run.request.swires
  const merge = run.selection.rules.duplicates === "MERGE"
  let step = 0
  let best = ""

  const stepStarted = (spec: StepSpec) =>
    run.trace.emitNow({ _tag: "StepStarted", step: spec.step, kind: spec.kind, candidates: spec.n })
  const chosen = (spec: StepSpec, entrant: Entrant, by: "SCORE" | "ONLY_CANDIDATE") =>
    run.trace.emitNow({
      _tag: "StepChosen",
      step: spec.step,
      kind: spec.kind,
      index: entrant.candidate.index,
      text: entrant.candidate.text,
      by,
    })
  /** Samples one step, unless the budget or the deadline says no: then undefined (the search is cut short). */
  const sampled = (spec: StepSpec, stagesAfter: number) =>
    Effect.gen(function* () {
      run.budget.planStepsAfter(stagesAfter)
      if (!(yield* run.budget.cutUnlessRoomFor("generation"))) return undefined
      yield* stepStarted(spec)
      return yield* orNothing(sample(run, spec))
    })
  /** One scoring round, timed for the budget; undefined when cut short. */
  const round = <A, E, R>(scoring: Effect.Effect<A, E | DeadlineReached, R>) =>
    Effect.gen(function* () {
      if (!(yield* run.budget.cutUnlessRoomFor("round"))) return undefined
      const startMs = yield* run.trace.elapsed
      const startTokens = run.usage.completionTokens()
      const result = yield* orNothing(scoring)
      run.budget.recordRound((yield* run.trace.elapsed) - startMs, run.usage.completionTokens() - startTokens)
      return result
    })

  // 1. SUMMARY: one sample.
  const summarySpec = specOf(step++, "SUMMARY", "", 1)
  const summaries = yield* sampled(summarySpec, 3)
  if (summaries === undefined) return best
  const summaryEntrant = summaries[0]!
  yield* chosen(summarySpec, summaryEntrant, "ONLY_CANDIDATE")
  const summary = summaryEntrant.candidate.text
  best = summary

  // 2–3. Passes over captions and reasonings, retracing while the pool's second-best score is too low.
  const pool: Array<PoolEntry> = []
  for (let pass = 0; pass <= options.maxRetraces; pass++) {
    const captionSpec = specOf(step++, "CAPTION", summary, run.request.candidates)
    let kept: ReadonlyArray<{ readonly prefix: string; readonly caption: string }>
    if (run.request.imageUrl === undefined) {
      // As STAGE_BEAM does: no caption is sampled for a text-only question.
      const text = `\n\n${openTag("CAPTION")}${NO_IMAGE_CAPTION}${closeTag("CAPTION")}`
      yield* run.trace.emitNow({
        _tag: "StepChosen",
        step: captionSpec.step,
        kind: "CAPTION",
        index: -1,
        text,
        by: "FIXED",
      })
      kept = [{ prefix: summary + text, caption: NO_IMAGE_CAPTION }]
    } else {
      const captions = yield* sampled(captionSpec, 2)
      if (captions === undefined) break
      const scored = yield* round(
        scoreEntrants(run, scorer, captionSpec, captions, deriveSeed(run.seed, "score", captionSpec.step)),
      )
      if (scored === undefined) break
      const ranked = rankByScore(scored, deriveSeed(run.seed, "score-ties", captionSpec.step), merge)
      const top = ranked.slice(0, options.keep)
      for (const { entrant } of top) yield* chosen(captionSpec, entrant, "SCORE")
      kept = top.map(({ entrant }) => ({
        prefix: summary + entrant.candidate.text,
        caption: entrant.judged ?? entrant.candidate.text,
      }))
      if (pool.length === 0) best = kept[0]!.prefix
    }

    const reasoningSpecs = kept.map((caption) => ({
      caption,
      spec: specOf(step++, "REASONING", caption.prefix, options.reasoningsPerCaption),
    }))
    run.budget.planStepsAfter(1)
    if (!(yield* run.budget.cutUnlessRoomFor("generation"))) break
    for (const { spec } of reasoningSpecs) yield* stepStarted(spec)
    const reasonings = yield* orNothing(
      Effect.all(
        reasoningSpecs.map(({ spec }) => sample(run, spec)),
        { concurrency: "unbounded" },
      ),
    )
    if (reasonings === undefined) break
    const scoredReasonings = yield* round(
      Effect.all(
        reasoningSpecs.map(({ spec }, i) =>
          scoreEntrants(run, scorer, spec, reasonings[i]!, deriveSeed(run.seed, "score", spec.step)),
        ),
        { concurrency: "unbounded" },
      ),
    )
    if (scoredReasonings === undefined) break
    for (const [i, scored] of scoredReasonings.entries()) {
      const prefix = reasoningSpecs[i]!.spec.prefix
      for (const item of scored) pool.push({ ...item, prefix: prefix + item.entrant.candidate.text })
    }
    const ranked = rankByScore(pool, deriveSeed(run.seed, "pool", pass), false)
    best = ranked[0]!.prefix
    const secondBest = (ranked[1] ?? ranked[0])!.score
    if (secondBest > options.cutoff) break
    if (pass < options.maxRetraces) {
      yield* run.trace.emitNow({ _tag: "SearchRetraced", pass, secondBest, cutoff: options.cutoff })
    }
  }
  if (pool.length === 0) return best

  // 4. CONCLUSION: one sample continuing each of the best reasonings; the best-scored whole answer wins.
  const top = rankByScore(pool, deriveSeed(run.seed, "pool", "final"), merge).slice(0, options.conclusions)
  const conclusionSpecs = top.map((entry) => specOf(step++, "CONCLUSION", entry.prefix, 1))
  run.budget.planStepsAfter(0)
  if (!(yield* run.budget.cutUnlessRoomFor("generation"))) return best
  for (const spec of conclusionSpecs) yield* stepStarted(spec)
  const conclusions = yield* orNothing(
    Effect.all(
      conclusionSpecs.map((spec) => sample(run, spec)),
      { concurrency: "unbounded" },
    ),
  )
  if (conclusions === undefined) return best
  const candidates = conclusions.flatMap((entrants, i) =>
    entrants.map((entrant) => ({ entrant, spec: conclusionSpecs[i]! })),
  )
  const lastStep = conclusionSpecs[conclusionSpecs.length - 1]!.step
  const scored = yield* round(
    scoreTexts(
      run,
      scorer,
      lastStep,
      "CONCLUSION",
      candidates.map(({ entrant, spec }) => ({
        entrant,
        step: spec.step,
        text: entrant.judged === undefined ? undefined : spec.prefix + entrant.candidate.text,
      })),
      deriveSeed(run.seed, "score", lastStep),
    ),
  )
  if (scored === undefined) return best
  const winner = rankByScore(scored, deriveSeed(run.seed, "score-ties", lastStep), false)[0]!
  const spec = candidates.find(({ entrant }) => entrant === winner.entrant)!.spec
  yield* chosen(spec, winner.entrant, "SCORE")
  return spec.prefix + winner.entrant.candidate.text
})
