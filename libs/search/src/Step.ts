import type { StepKind } from "@stagebeam/cot"
import { Effect } from "effect"
import { type Candidate, classify } from "./Candidate.ts"
import { NoValidCandidate } from "./Errors.ts"
import type { Run } from "./Run.ts"
import { deriveSeed } from "./Seeds.ts"
import type { Verdict } from "./Services.ts"
import { mergeDuplicates, runTournament } from "./Tournament.ts"

export interface StepSpec {
  readonly step: number
  readonly kind: StepKind
  /** The chosen answer so far, continued by every candidate. */
  readonly prefix: string
  readonly n: number
  readonly stop: ReadonlyArray<string>
  /** Context for the judge (see judgePrompt). */
  readonly hint: string | undefined
}

export interface StepChoice {
  readonly candidate: Candidate
  readonly by: "TOURNAMENT" | "ONLY_CANDIDATE" | "CUT_SHORT"
}

interface MatchOutcome {
  readonly winner: 0 | 1
  readonly verdict: Verdict | undefined
  readonly startedAtMs: number
  readonly endedAtMs: number
}

const MAX_ATTEMPTS = 2

/** Samples N candidates (one call), resampling once when none is valid. */
const sample = Effect.fnUntraced(function* (run: Run, spec: StepSpec) {
  let problems: Array<string> = []
  let allCutByLength = false
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { result, startedAtMs, endedAtMs } = yield* run.generate(spec.step, spec.kind, {
      question: run.request.question,
      imageUrl: run.request.imageUrl,
      prefix: spec.prefix,
      n: spec.n,
      stop: spec.stop,
      // Not capped by the token budget: a stage cut off by length is invalid, so a starved step would fail instead
      // of cutting the search short. The budget is checked before each step, from the costliest call so far.
      sampling: run.request.sampling,
      seed: deriveSeed(run.seed, "generate", spec.step, attempt),
    })
    const candidates = result.samples.map((generated, index) => classify(spec.kind, index, generated))
    const valid = candidates.filter((candidate) => candidate.valid)
    const { mergedInto } = mergeDuplicates(valid, (candidate) => candidate.judgedText)
    for (const candidate of candidates) {
      const position = valid.indexOf(candidate)
      const merged = position === -1 ? position : (valid[mergedInto[position]!]?.index ?? -1)
      yield* run.trace.emit({
        _tag: "CandidateGenerated",
        step: spec.step,
        kind: spec.kind,
        attempt,
        index: candidate.index,
        text: candidate.text,
        judgedText: candidate.judgedText,
        completionTokens: result.samples[candidate.index]?.completionTokens ?? 0,
        ...(result.tokensEstimated === true && { tokensEstimated: true }),
        finishReason: result.samples[candidate.index]?.finishReason ?? "stop",
        server: result.server,
        valid: candidate.valid,
        ...(candidate.problem === undefined ? {} : { problem: candidate.problem }),
        ...(merged !== -1 && merged !== candidate.index ? { mergedInto: merged } : {}),
        startedAtMs,
        endedAtMs,
      })
    }
    if (valid.length > 0) return valid
    problems = candidates.map((candidate) => `candidate ${candidate.index}: ${candidate.problem}`)
    allCutByLength = result.samples.every((generated) => generated.finishReason === "length")
  }
  return yield* new NoValidCandidate({
    step: spec.step,
    kind: spec.kind,
    attempts: MAX_ATTEMPTS,
    problems,
    allCutByLength,
    message: `no valid ${spec.kind} candidate at step ${spec.step} after ${MAX_ATTEMPTS} samplings of ${spec.n}: ${problems.join("; ")}`,
  })
})

/** The reasoning pre-check: each distinct candidate once, all in parallel. Returns correctness by candidate index. */
const preCheck = Effect.fnUntraced(function* (run: Run, spec: StepSpec, distinct: ReadonlyArray<Candidate>) {
  const checked = yield* Effect.all(
    distinct.map((candidate) =>
      Effect.gen(function* () {
        const startedAtMs = yield* run.trace.elapsed
        const verdict = yield* run.checkReasoning(spec.step, {
          question: run.request.question,
          hint: spec.hint,
          reasoning: candidate.judgedText,
          seed: deriveSeed(run.seed, "check", spec.step, candidate.index),
        })
        yield* run.trace.emit({
          _tag: "ReasoningChecked",
          step: spec.step,
          index: candidate.index,
          correct: verdict.correct,
          raw: verdict.raw,
          server: verdict.server,
          startedAtMs,
          endedAtMs: yield* run.trace.elapsed,
        })
        return [candidate.index, verdict.correct] as const
      }),
    ),
    { concurrency: "unbounded" },
  )
  return new Map(checked)
})

/**
 * One search step: sample N candidates, drop the invalid ones, merge identical ones, optionally pre-check
 * reasoning, and pick one by tournament. With the pre-check, a correct candidate beats an incorrect one without a
 * judge call; when both are incorrect (or both correct) the pairwise judge decides, so a step whose candidates all
 * fail the check still picks the judge's favourite rather than failing.
 */
export const runStep = Effect.fn("search.step")(function* (run: Run, spec: StepSpec) {
  yield* Effect.annotateCurrentSpan({ step: spec.step, kind: spec.kind, candidates: spec.n })
  yield* run.trace.emitNow({ _tag: "StepStarted", step: spec.step, kind: spec.kind, candidates: spec.n })
  const valid = yield* sample(run, spec)
  const { distinct } = mergeDuplicates(valid, (candidate) => candidate.judgedText)
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
  if (distinct.length === 1) return yield* choose(valid[0]!, "ONLY_CANDIDATE")

  const correctness =
    spec.kind === "REASONING" && run.request.reasoningCheck
      ? yield* preCheck(
          run,
          spec,
          distinct.map((position) => valid[position]!),
        )
      : undefined

  const compare = (first: Candidate, second: Candidate, slot: { readonly round: number; readonly index: number }) =>
    Effect.gen(function* () {
      const startedAtMs = yield* run.trace.elapsed
      const firstCorrect = correctness?.get(first.index)
      const secondCorrect = correctness?.get(second.index)
      if (correctness !== undefined && firstCorrect !== secondCorrect) {
        return { winner: firstCorrect ? 0 : 1, verdict: undefined, startedAtMs, endedAtMs: startedAtMs } as const
      }
      const verdict = yield* run.compare(spec.step, {
        kind: spec.kind,
        question: run.request.question,
        imageUrl: run.request.imageUrl,
        hint: spec.hint,
        first: first.judgedText,
        second: second.judgedText,
        seed: deriveSeed(run.seed, "judge", spec.step, slot.round, slot.index),
      })
      return {
        winner: verdict.winner,
        verdict,
        startedAtMs,
        endedAtMs: yield* run.trace.elapsed,
      } satisfies MatchOutcome
    })

  let roundStartMs = 0
  let roundStartTokens = 0
  const closeRound = Effect.map(run.trace.elapsed, (now) =>
    run.budget.recordRound(now - roundStartMs, run.usage.completionTokens() - roundStartTokens),
  )
  const result = yield* runTournament(run.request.tournament, valid, compare, {
    seed: deriveSeed(run.seed, "pairing", spec.step),
    key: (candidate) => candidate.judgedText,
    continueRound: (round) =>
      Effect.gen(function* () {
        if (round > 0) yield* closeRound
        const room = yield* run.budget.cutUnlessRoomFor("round")
        roundStartMs = yield* run.trace.elapsed
        roundStartTokens = run.usage.completionTokens()
        return room
      }),
    onMatch: (record) => {
      const first = valid[record.first]!
      const second = valid[record.second]!
      const verdict = record.outcome.verdict
      return run.trace.emit({
        _tag: "MatchJudged",
        step: spec.step,
        kind: spec.kind,
        round: record.round,
        match: record.index,
        first: first.index,
        second: second.index,
        firstText: first.judgedText,
        secondText: second.judgedText,
        winner: valid[record.winner]!.index,
        raw: verdict?.raw ?? "decided by the reasoning correctness pre-check",
        explicit: verdict?.explicit ?? true,
        server: verdict?.server ?? "",
        decidedBy: verdict === undefined ? "CORRECTNESS" : "JUDGE",
        startedAtMs: record.outcome.startedAtMs,
        endedAtMs: record.outcome.endedAtMs,
      })
    },
  })
  if (!result.stoppedEarly) yield* closeRound
  return yield* choose(valid[result.winner]!, result.stoppedEarly ? "CUT_SHORT" : "TOURNAMENT")
})
