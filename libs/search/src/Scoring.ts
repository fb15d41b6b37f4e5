import type { StepKind } from "@stagebeam/cot"
import { Effect } from "effect"
import { type Entrant, mergeKey, type StepSpec } from "./Entrant.ts"
import type { PointwiseCalls } from "./JudgeCalls.ts"
import type { Run } from "./Run.ts"
import { deriveSeed, makeRng } from "./Seeds.ts"

/**
 * What a pointwise judge scores of an entrant: a stage's inner text, but for CONCLUSION the whole answer (the
 * chosen stages and this conclusion, as SWIRES scores its final candidates), and the whole text for ALL.
 */
export const scoredText = (spec: StepSpec, entrant: Entrant): string | undefined => {
  if (entrant.judged === undefined) return undefined
  if (spec.kind === "CONCLUSION") return spec.prefix + entrant.candidate.text
  return entrant.judged
}

export interface ScoredEntrant {
  readonly entrant: Entrant
  /** -Infinity for an entrant the judge cannot read (it is not sent). */
  readonly score: number
}

/**
 * Scores the texts of one step's entrants (each distinct text once, in one scoring call the judge may batch; an
 * entrant without a text scores -Infinity unsent) and traces each candidate's score (copies share it).
 */
export const scoreTexts = Effect.fnUntraced(function* (
  run: Run,
  scorer: PointwiseCalls,
  step: number,
  kind: StepKind,
  /** `step`: the entrant's own step when the texts come from several (SWIRES's conclusions). */
  items: ReadonlyArray<{ readonly entrant: Entrant; readonly text: string | undefined; readonly step?: number }>,
  seed: number,
) {
  const distinct = [...new Set(items.flatMap((item) => (item.text === undefined ? [] : [item.text])))]
  const startedAtMs = yield* run.trace.elapsed
  const scores =
    distinct.length === 0
      ? undefined
      : yield* scorer.score(step, {
          kind,
          question: run.request.question,
          imageUrl: run.request.imageUrl,
          responses: distinct,
          seed,
        })
  const endedAtMs = yield* run.trace.elapsed
  const byText = new Map(distinct.map((text, i) => [text, scores?.scores[i] ?? Number.NEGATIVE_INFINITY]))
  const scored = items.map(
    ({ entrant, text }): ScoredEntrant => ({
      entrant,
      score: text === undefined ? Number.NEGATIVE_INFINITY : (byText.get(text) ?? Number.NEGATIVE_INFINITY),
    }),
  )
  for (const [i, { entrant, score }] of scored.entries()) {
    if (!Number.isFinite(score)) continue
    yield* run.trace.emit({
      _tag: "CandidateScored",
      step: items[i]!.step ?? step,
      kind,
      index: entrant.candidate.index,
      score,
      server: scores?.server ?? "",
      startedAtMs,
      endedAtMs,
    })
  }
  return scored
})

/** Scores a step's entrants on what a pointwise judge sees of them (scoredText). */
export const scoreEntrants = (
  run: Run,
  scorer: PointwiseCalls,
  spec: StepSpec,
  entrants: ReadonlyArray<Entrant>,
  seed: number,
) =>
  scoreTexts(
    run,
    scorer,
    spec.step,
    spec.kind,
    entrants.map((entrant) => ({ entrant, text: scoredText(spec, entrant) })),
    seed,
  )

/**
 * The entrants ranked by score, best first; equal scores in a seeded order (copies of one text each count, so a text
 * written twice keeps its weight; MERGE ranks one entrant per text).
 */
export const rankByScore = <S extends ScoredEntrant>(
  scored: ReadonlyArray<S>,
  seed: number,
  merge: boolean,
): ReadonlyArray<S> => {
  const rng = makeRng(seed)
  const seen = new Set<string>()
  const pool = merge
    ? scored.filter(({ entrant }) => {
        const key = mergeKey(entrant)
        if (seen.has(key)) return false
        seen.add(key)
        return true
      })
    : scored
  return pool
    .map((item) => ({ item, tieBreak: rng() }))
    .sort((a, b) => b.item.score - a.item.score || a.tieBreak - b.tieBreak)
    .map(({ item }) => item)
}

/** A step with a pointwise judge: every distinct candidate scored in one call, the highest kept (seeded tie-break). */
export const pickByScore = Effect.fnUntraced(function* (
  run: Run,
  scorer: PointwiseCalls,
  spec: StepSpec,
  entrants: ReadonlyArray<Entrant>,
) {
  if (new Set(entrants.map(mergeKey)).size === 1) {
    const pick = Math.floor(makeRng(deriveSeed(run.seed, "identical", spec.step))() * entrants.length)
    return { candidate: entrants[pick]!.candidate, by: "ONLY_CANDIDATE" as const }
  }
  if (!(yield* run.budget.cutUnlessRoomFor("round"))) {
    return { candidate: entrants[0]!.candidate, by: "CUT_SHORT" as const }
  }
  const startMs = yield* run.trace.elapsed
  const startTokens = run.usage.completionTokens()
  const scored = yield* scoreEntrants(run, scorer, spec, entrants, deriveSeed(run.seed, "score", spec.step))
  run.budget.recordRound((yield* run.trace.elapsed) - startMs, run.usage.completionTokens() - startTokens)
  const ranked = rankByScore(
    scored,
    deriveSeed(run.seed, "score-ties", spec.step),
    run.selection.rules.duplicates === "MERGE",
  )
  return { candidate: ranked[0]!.entrant.candidate, by: "SCORE" as const }
})
