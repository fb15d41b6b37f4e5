import type { StepKind } from "@stagebeam/cot"
import { Effect } from "effect"
import { type Budget, makeBudget } from "./Budget.ts"
import { type DeadlineReached, GenerationFailed } from "./Errors.ts"
import { judgeCalls, type PairwiseCalls, type PointwiseCalls } from "./JudgeCalls.ts"
import type { SearchRequest } from "./Request.ts"
import { type ResolvedSchedule, resolveSchedule, ScheduleDefaults } from "./ScheduleOptions.ts"
import { resolveSelection, type Selection } from "./Selection.ts"
import {
  CandidateGenerator,
  type GenerationRequest,
  type GenerationResult,
  Judge,
  type SampleListener,
} from "./Services.ts"
import { makeTrace, type Trace } from "./Trace.ts"
import { makeUsage, type UsageCounter } from "./Usage.ts"

export interface TimedGeneration {
  readonly result: GenerationResult
  /** Ms since the search started. */
  readonly startedAtMs: number
  readonly endedAtMs: number
}

/**
 * One search run: the request and its seed, the trace, the usage, the budget, and the three model calls
 * (generate, compare, check), each bound by the deadline and counted in the usage and the estimates.
 */
export interface Run {
  readonly request: SearchRequest
  readonly seed: number
  /** The selection rules in force: the request's preset with its overrides. */
  readonly selection: Selection
  /** When the calls run (speculation, stragglers): the request's choices, else the defaults, resolved once. */
  readonly schedule: ResolvedSchedule
  readonly trace: Trace
  readonly usage: UsageCounter
  readonly budget: Budget
  /** One generation call; `final` marks the completion of a cut answer, which may use all the time left. */
  readonly generate: (
    step: number,
    kind: StepKind,
    generation: GenerationRequest,
    final?: boolean,
    onSample?: SampleListener,
  ) => Effect.Effect<TimedGeneration, GenerationFailed | DeadlineReached>
  /**
   * The generator's call alone, bound by nothing and counted nowhere (a call started ahead of its step, see
   * Prefetch.ts): `account` counts it once it is used.
   */
  readonly call: (
    step: number,
    kind: StepKind,
    generation: GenerationRequest,
    onSample?: SampleListener,
  ) => Effect.Effect<GenerationResult, GenerationFailed>
  /** Counts a finished generation call in the usage and the estimates. */
  readonly account: (timed: TimedGeneration) => TimedGeneration
  /** The judge's calls: pairwise (compare, check) or pointwise (score), each bound by the deadline and counted. */
  readonly judging: PairwiseCalls | PointwiseCalls
}

export const makeRun = Effect.fnUntraced(function* (request: SearchRequest, seed: number) {
  const generator = yield* CandidateGenerator
  const judge = yield* Judge
  const trace = yield* makeTrace()
  const usage = makeUsage()
  const budget = makeBudget(request, trace, usage)
  const judging = judgeCalls(judge, budget, usage)
  // The verdict mode is chosen here, once: CHOICE only where the judge can constrain its answer to a label.
  const asked = resolveSelection(request)
  const selection =
    asked.rules.verdict === "CHOICE" && judging._tag === "Pairwise" && !(yield* judging.canChoose)
      ? resolveSelection({ ...request, verdict: "FREE_TEXT" })
      : asked
  const schedule = resolveSchedule(request, yield* ScheduleDefaults)

  const call: Run["call"] = (step, kind, generation, onSample) =>
    generator.generate(generation, onSample).pipe(
      Effect.mapError(
        (cause) =>
          new GenerationFailed({
            step,
            kind,
            message: `the ${kind} generation call failed: ${cause.message}`,
            cause,
          }),
      ),
    )

  const account = (timed: TimedGeneration) => {
    const { result, startedAtMs, endedAtMs } = timed
    const tokens = result.samples.reduce((sum, sample) => sum + sample.completionTokens, 0)
    usage.generation({
      promptTokens: result.promptTokens,
      completionTokens: tokens,
      tokensEstimated: result.tokensEstimated,
    })
    budget.recordGeneration(
      endedAtMs - startedAtMs,
      tokens,
      Math.max(0, ...result.samples.map((sample) => sample.completionTokens)),
    )
    return timed
  }

  // A chain, not a generator made per search (StepMatch's playMatch says why).
  const generate: Run["generate"] = (step, kind, generation, final = false, onSample) =>
    Effect.flatMap(trace.elapsed, (startedAtMs) =>
      Effect.flatMap(
        budget.withinDeadline(call(step, kind, generation, onSample), `the ${kind} generation call`, !final),
        (result) => Effect.map(trace.elapsed, (endedAtMs) => account({ result, startedAtMs, endedAtMs })),
      ),
    )

  return {
    request,
    seed,
    selection,
    schedule,
    trace,
    usage,
    budget,
    generate,
    call,
    account,
    judging,
  } satisfies Run
})
