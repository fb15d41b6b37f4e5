import {
  closeTag,
  conclusionHint,
  conclusionOf,
  continuationPrefix,
  extractStage,
  NO_IMAGE_CAPTION,
  openTag,
  parseStages,
  periodTokenIds,
  REFERENCE_TOP_K,
  STAGES,
  type Stage,
} from "@stagebeam/cot"
import { Effect, Random } from "effect"
import { type Candidate, classify } from "./Candidate.ts"
import type { StepSpec } from "./Entrant.ts"
import { BudgetExhausted, type DeadlineReached, type SearchError } from "./Errors.ts"
import type { SearchResult } from "./Events.ts"
import type { SearchRequest } from "./Request.ts"
import { makeRun, type Run } from "./Run.ts"
import { makeSchedules } from "./Schedules.ts"
import { deriveSeed } from "./Seeds.ts"
import type { CandidateGenerator, Judge } from "./Services.ts"
import { runStep } from "./Step.ts"
import { swires } from "./Swires.ts"

const CONCLUSION_END = closeTag("CONCLUSION")
/**
 * SENTENCE_BEAM stops each candidate where the reference does: after a token that ends in a period (periodTokenIds:
 * the reference stops when the text ends with ".", not inside ".\n\n"), or at the end of the answer.
 */
const SENTENCE_STOPS = [CONCLUSION_END]

/**
 * The judge's hint per stage for the CORRECTED wording: caption for reasoning, caption + reasoning for the conclusion
 * (the REFERENCE wording takes each candidate's own, see referenceView).
 */
const hintFor = (stage: Stage, answer: string): string | undefined => {
  const caption = extractStage(answer, "CAPTION")
  switch (stage) {
    case "REASONING":
      return caption
    case "CONCLUSION": {
      const reasoning = extractStage(answer, "REASONING")
      return caption === undefined || reasoning === undefined ? caption : conclusionHint(caption, reasoning)
    }
    default:
      return undefined
  }
}

/** A step the deadline interrupted gives no choice: the search keeps what it has (the run is already cut short). */
const untilDeadline = <A, E, R>(step: Effect.Effect<A, E | DeadlineReached, R>) =>
  step.pipe(Effect.catchTag("DeadlineReached", () => Effect.succeed(undefined)))

/** STAGE_BEAM's step for stage `step` continuing `answer` (undefined past the last stage). */
const stageSpec = (run: Run, step: number, answer: string): StepSpec | undefined => {
  const stage = STAGES[step]
  if (stage === undefined) return undefined
  return {
    step,
    kind: stage,
    // Continued as the model's own tokens were: after the previous stage's ">\n\n" (continuationPrefix).
    prefix: continuationPrefix(answer),
    n: run.request.candidates,
    stop: [closeTag(stage)],
    hint: hintFor(stage, answer),
  }
}

/**
 * STAGE_BEAM: N candidates per stage in one call (shared prefill), stop at the stage's closing tag, pick one. With
 * speculation, the next stage's call starts for both finalists of a stage's deciding match, or with a wider
 * `speculationWidth` for more of its candidates sooner (see Speculation.ts).
 */
const stageBeam = Effect.fnUntraced(function* (run: Run) {
  let answer = ""
  const schedules = makeSchedules(run)
  for (const [step, stage] of STAGES.entries()) {
    if (stage === "CAPTION" && run.request.imageUrl === undefined) {
      const text = `${answer.length > 0 ? "\n\n" : ""}${openTag("CAPTION")}${NO_IMAGE_CAPTION}${closeTag("CAPTION")}`
      yield* run.trace.emitNow({ _tag: "StepChosen", step, kind: stage, index: -1, text, by: "FIXED" })
      answer += text
      continue
    }
    run.budget.planStepsAfter(STAGES.length - step - 1)
    if (!(yield* run.budget.cutUnlessRoomFor("generation"))) break
    const spec = stageSpec(run, step, answer)!
    // The next stage is started ahead only where it is generated (a text-only question's caption is fixed).
    const next = (candidate: Candidate) =>
      STAGES[step + 1] === "CAPTION" && run.request.imageUrl === undefined
        ? undefined
        : stageSpec(run, step + 1, spec.prefix + candidate.text)
    const choice = yield* untilDeadline(runStep(run, spec, schedules.forStep(spec, next)))
    if (choice === undefined) break
    answer = spec.prefix + choice.candidate.text
    if (choice.by === "CUT_SHORT") break
  }
  yield* schedules.close
  return answer
})

/** One step under the run's schedule, with nothing to start ahead of it. */
const scheduledStep = (run: Run, spec: StepSpec) => runStep(run, spec, makeSchedules(run).forStep(spec))

/** A whole answer of n samples, one step (BEST_OF_N, GREEDY). */
const wholeAnswer = (n: number): StepSpec => ({
  step: 0,
  kind: "ALL",
  prefix: "",
  n,
  stop: [CONCLUSION_END],
  hint: undefined,
})

/** BEST_OF_N: N whole answers in one call, judged pairwise on the whole text ("ALL"). */
const bestOfN = Effect.fnUntraced(function* (run: Run) {
  if (!(yield* run.budget.cutUnlessRoomFor("generation"))) return ""
  const choice = yield* untilDeadline(scheduledStep(run, wholeAnswer(run.request.candidates)))
  return choice?.candidate.text ?? ""
})

/** GREEDY: one whole answer, no judge (the baseline "no inference-time search"). */
const greedy = Effect.fnUntraced(function* (run: Run) {
  const choice = yield* untilDeadline(scheduledStep(run, wholeAnswer(1)))
  return choice?.candidate.text ?? ""
})

/** SENTENCE_BEAM: N candidates per sentence, the answer so far as the judge's hint, until </CONCLUSION>. */
const sentenceBeam = Effect.fnUntraced(function* (run: Run) {
  let answer = ""
  for (let step = 0; !answer.includes(CONCLUSION_END); step++) {
    if (step >= run.request.maxSentences) {
      yield* run.budget.cut("SENTENCE_LIMIT", `${run.request.maxSentences} sentences searched without a conclusion`)
      break
    }
    if (!(yield* run.budget.cutUnlessRoomFor("generation"))) break
    const choice = yield* untilDeadline(
      scheduledStep(run, {
        step,
        kind: "SENTENCE",
        prefix: answer,
        n: run.request.candidates,
        stop: SENTENCE_STOPS,
        stopTokenIds: periodTokenIds(),
        hint: answer.length > 0 ? answer : undefined,
      }),
    )
    if (choice === undefined) break
    answer += choice.candidate.text
    if (choice.by === "CUT_SHORT") break
  }
  return answer
})

/**
 * After a cut (budget, deadline, sentence limit) the answer may lack its conclusion: complete it with one unjudged
 * sample (n = 1, capped at the tokens left) if anything is left; otherwise fail with BudgetExhausted.
 */
const completeAfterCut = Effect.fnUntraced(function* (run: Run, answer: string) {
  const cut = run.budget.cutState()
  if (cut === undefined || extractStage(answer, "CONCLUSION") !== undefined) return answer
  const exhausted = (why: string) =>
    new BudgetExhausted({ reason: cut.reason, partialText: answer, message: `${cut.detail}; ${why}` })
  const timeLeft = yield* run.budget.timeLeft
  const tokensLeft = run.budget.tokensLeft()
  if (tokensLeft <= 0 || timeLeft <= 0) return yield* exhausted("nothing left to complete the answer")
  const step = run.trace.count("StepStarted")
  yield* run.trace.emitNow({ _tag: "StepStarted", step, kind: "ALL", candidates: 1 })
  const { result, startedAtMs, endedAtMs } = yield* run
    .generate(
      step,
      "ALL",
      {
        question: run.request.question,
        imageUrl: run.request.imageUrl,
        prefix: answer,
        n: 1,
        stop: [CONCLUSION_END],
        sampling: { ...run.request.sampling, maxTokens: Math.min(run.request.sampling.maxTokens, tokensLeft) },
        seed: deriveSeed(run.seed, "complete", step),
      },
      true,
    )
    .pipe(Effect.catchTag("DeadlineReached", (reached) => Effect.fail(exhausted(reached.message))))
  const sample = result.samples[0]
  const candidate =
    sample === undefined ? undefined : classify("ALL", 0, { ...sample, text: `${answer}${sample.text}` })
  if (sample !== undefined) {
    yield* run.trace.emit({
      _tag: "CandidateGenerated",
      step,
      kind: "ALL",
      attempt: 0,
      index: 0,
      text: sample.text,
      judgedText: sample.text,
      completionTokens: sample.completionTokens,
      ...(result.tokensEstimated === true && { tokensEstimated: true }),
      finishReason: sample.finishReason,
      server: result.server,
      valid: candidate?.valid ?? false,
      ...(candidate?.problem === undefined ? {} : { problem: candidate.problem }),
      startedAtMs,
      endedAtMs,
    })
  }
  if (sample === undefined || candidate === undefined || !candidate.valid) {
    return yield* exhausted(`the unjudged completion has no conclusion (${candidate?.problem ?? "no sample"})`)
  }
  yield* run.trace.emitNow({ _tag: "StepChosen", step, kind: "ALL", index: 0, text: sample.text, by: "UNJUDGED" })
  return candidate.text
})

const STRATEGIES = {
  STAGE_BEAM: stageBeam,
  BEST_OF_N: bestOfN,
  SENTENCE_BEAM: sentenceBeam,
  GREEDY: greedy,
  // The gateway refuses SWIRES with a pairwise judge before it runs (the judge is its choice, not the search's).
  SWIRES: (run: Run) =>
    run.judging._tag === "Pointwise"
      ? swires(run, run.judging)
      : Effect.die(new Error("SWIRES needs a pointwise judge (a reward model)")),
} as const

/**
 * Answers one request with the requested strategy and tournament, over the CandidateGenerator and Judge services.
 * Events go to the SearchEvents reference as they happen and into the result's trace.
 */
export const runSearch = Effect.fn("runSearch")(function* (
  asked: SearchRequest,
): Effect.fn.Return<SearchResult, SearchError, CandidateGenerator | Judge> {
  // The reference's HF generate samples from the top 50 tokens (its default top_k): the REFERENCE preset sends it.
  const request: SearchRequest =
    asked.preset === "REFERENCE" && asked.sampling.topK === undefined
      ? { ...asked, sampling: { ...asked.sampling, topK: REFERENCE_TOP_K } }
      : asked
  const seed = request.seed ?? (yield* Random.nextIntBetween(0, 0xffff_ffff))
  const run = yield* makeRun(request, seed)
  yield* run.trace.emitNow({
    _tag: "SearchStarted",
    strategy: request.strategy,
    candidates: request.candidates,
    seed,
    selection: run.selection,
  })
  const searched = yield* STRATEGIES[request.strategy](run)
  const text = yield* completeAfterCut(run, searched)
  const conclusion = conclusionOf(text) ?? ""
  yield* run.trace.emitNow({ _tag: "SearchFinished", conclusion, text })
  const cut = run.budget.cutState()
  return {
    seed,
    strategy: request.strategy,
    tournament: run.selection.rules.tournament,
    selection: run.selection,
    conclusion,
    stages: parseStages(text),
    text,
    usage: run.usage.snapshot(),
    ...(cut === undefined ? {} : { cutShort: cut }),
    trace: run.trace.events(),
  }
})
