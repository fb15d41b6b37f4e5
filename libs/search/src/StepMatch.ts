import { Effect } from "effect"
import type { Entrant, StepSpec } from "./Entrant.ts"
import type { MatchJudged } from "./Events.ts"
import type { PairwiseCalls } from "./JudgeCalls.ts"
import { judgeMatch, type MatchDecision } from "./Match.ts"
import { check } from "./PreCheck.ts"
import type { Run } from "./Run.ts"
import { deriveSeed } from "./Seeds.ts"
import type { Play, TimedOutcome } from "./StepSchedule.ts"
import type { MatchRecord, MatchSlot } from "./Tournament.ts"

type DecidedBy = (typeof MatchJudged.Type)["decidedBy"]

/** How one match of a step was decided. */
export interface MatchOutcome extends TimedOutcome {
  readonly decision: MatchDecision | undefined
  readonly decidedBy: DecidedBy
  /** Why a match was decided without a verdict. */
  readonly reason: string
}

/**
 * How a step decides its matches under the run's selection rules:
 * - duplicates WEIGHT: a match between two identical texts is a seeded coin (no call).
 * - reasoningCheck ONCE (`correctOnce`): a correct reasoning beats an incorrect one without a judge call, the judge
 *   decides when both agree. PER_MATCH, the reference's rule, in every match: check the first, "incorrect" → the
 *   second wins unchecked; else check the second, "incorrect" → the first wins; else the judge decides. Where the
 *   reference would crash (a response it cannot read, malformed KEEP), the match goes to the readable one after its
 *   check, or to the second when neither is readable (decidedBy UNREADABLE).
 * - each match is put to the judge under the match rules (judgeMatch: order, votes, both orders); its verdict 0 is
 *   the first entrant, 1 the second.
 * Every decided match is traced (MatchJudged).
 */
export const playOf = (
  run: Run,
  judge: PairwiseCalls,
  spec: StepSpec,
  correctOnce: ((entrant: Entrant) => boolean) | undefined,
): Play<MatchOutcome> => ({ compare: compareOf(run, judge, spec, correctOnce), decided: traceMatch(run, spec) })

const compareOf =
  (
    run: Run,
    judge: PairwiseCalls,
    spec: StepSpec,
    correctOnce: ((entrant: Entrant) => boolean) | undefined,
  ): Play<MatchOutcome>["compare"] =>
  (first, second, slot) =>
    playMatch(run, judge, spec, correctOnce, first, second, slot)

/**
 * One match. Made once, here, as every generator a search runs per step or per call: a generator function made per
 * call gets a map of its own in V8's old generation that keeps everything the call saw through each young collection
 * until a mark-compact (bench/README.md, "Why a photo's Buffers wait for a mark-compact").
 */
const playMatch = Effect.fnUntraced(function* (
  run: Run,
  judge: PairwiseCalls,
  spec: StepSpec,
  correctOnce: ((entrant: Entrant) => boolean) | undefined,
  first: Entrant,
  second: Entrant,
  slot: MatchSlot,
) {
  const rules = run.selection.rules
  const startedAtMs = yield* run.trace.elapsed
  const settled = (winner: 0 | 1, decidedBy: DecidedBy, reason: string) =>
    Effect.map(
      run.trace.elapsed,
      (endedAtMs): MatchOutcome => ({
        winner,
        decision: undefined,
        decidedBy,
        reason,
        startedAtMs,
        endedAtMs,
        completionTokens: 0,
      }),
    )
  if (rules.duplicates === "WEIGHT" && first.key !== undefined && first.key === second.key) {
    const coin = deriveSeed(run.seed, "identical", spec.step, slot.round, slot.index) % 2 === 0 ? 0 : 1
    return yield* settled(coin, "IDENTICAL", "identical texts: a seeded coin, no judge call")
  }
  // The reference's loop keeps the hint the second candidate sets, else the first's.
  const hint = rules.wording === "REFERENCE" ? (second.hint ?? first.hint) : spec.hint
  if (spec.kind === "REASONING" && rules.reasoningCheck === "PER_MATCH") {
    const readable = [first, second].filter((entrant) => entrant.judged !== undefined)
    const checkSeed = (position: number) => deriveSeed(run.seed, "check", spec.step, slot.round, slot.index, position)
    const [shownFirst, shownSecond] = readable
    if (shownFirst === undefined) return yield* settled(1, "UNREADABLE", "neither reasoning is readable: the second")
    if (!(yield* check(run, judge, spec, shownFirst, hint, checkSeed(0)))) {
      return yield* settled(1, "CORRECTNESS", "the first reasoning shown was checked incorrect: the second wins")
    }
    if (shownSecond === undefined) {
      return yield* settled(shownFirst === first ? 0 : 1, "UNREADABLE", "the only readable reasoning, checked correct")
    }
    if (!(yield* check(run, judge, spec, shownSecond, hint, checkSeed(1)))) {
      return yield* settled(0, "CORRECTNESS", "the second reasoning was checked incorrect: the first wins")
    }
  }
  if (correctOnce !== undefined && correctOnce(first) !== correctOnce(second)) {
    return yield* settled(correctOnce(first) ? 0 : 1, "CORRECTNESS", "decided by the reasoning correctness pre-check")
  }
  const decision = yield* judgeMatch(
    {
      kind: spec.kind,
      question: run.request.question,
      imageUrl: run.request.imageUrl,
      hint,
      first: first.judged,
      second: second.judged,
      seed: deriveSeed(run.seed, "judge", spec.step, slot.round, slot.index),
      wording: rules.wording,
      unclearVerdict: rules.unclearVerdict,
      verdict: rules.verdict,
    },
    rules,
    (match) => judge.compare(spec.step, match),
  )
  return {
    winner: decision.winner,
    decision,
    decidedBy: decision.decidedBy,
    reason: "",
    startedAtMs,
    endedAtMs: yield* run.trace.elapsed,
    completionTokens: decision.completionTokens,
  } satisfies MatchOutcome
})

/** The MatchJudged event of a decided match (`among`: the entrants the record's indices point into). */
const traceMatch =
  (run: Run, spec: StepSpec) =>
  (among: ReadonlyArray<Entrant>, record: MatchRecord<MatchOutcome>): Effect.Effect<void> => {
    const { decision } = record.outcome
    // One verdict shown the other way round: the trace tells the order the judge saw.
    const flipped = decision?.orderFlipped === true
    const first = among[flipped ? record.second : record.first]!
    const second = among[flipped ? record.first : record.second]!
    const votes = decision === undefined ? undefined : flipped ? [decision.votes[1], decision.votes[0]] : decision.votes
    const mode = decision?.verdicts[0]?.mode
    return run.trace.emit({
      _tag: "MatchJudged",
      step: spec.step,
      kind: spec.kind,
      round: record.round,
      match: record.index,
      first: first.candidate.index,
      second: second.candidate.index,
      firstText: first.judged ?? "",
      secondText: second.judged ?? "",
      winner: among[record.winner]!.candidate.index,
      raw: decision?.raw ?? record.outcome.reason,
      explicit: decision?.explicit ?? true,
      server: decision?.server ?? "",
      decidedBy: record.outcome.decidedBy,
      ...(decision?.margin === undefined ? {} : { margin: decision.margin }),
      ...(votes === undefined ? {} : { votesFirst: votes[0], votesSecond: votes[1] }),
      ...(decision === undefined ? {} : { orderFlipped: flipped, reasked: decision.reasked, calls: decision.calls }),
      ...(mode === undefined ? {} : { verdictMode: mode }),
      startedAtMs: record.outcome.startedAtMs,
      endedAtMs: record.outcome.endedAtMs,
    })
  }
