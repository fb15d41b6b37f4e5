import type { StepKind } from "@stagebeam/cot"
import { Effect, Fiber } from "effect"
import { type Budget, makeBudget } from "./Budget.ts"
import { type DeadlineReached, GenerationFailed, JudgeFailed } from "./Errors.ts"
import type { SearchRequest } from "./Request.ts"
import { resolveSelection, type Selection } from "./Selection.ts"
import {
  CandidateGenerator,
  type CorrectnessInput,
  type CorrectnessVerdict,
  type GeneratedText,
  type GenerationRequest,
  type GenerationResult,
  isPointwise,
  Judge,
  type MatchInput,
  type SampleListener,
  type ScoreInput,
  type Scores,
  type Verdict,
} from "./Services.ts"
import { makeTrace, type Trace } from "./Trace.ts"
import { makeUsage, type UsageCounter } from "./Usage.ts"

export interface TimedGeneration {
  readonly result: GenerationResult
  /** Ms since the search started. */
  readonly startedAtMs: number
  readonly endedAtMs: number
}

/** A generation call started ahead of its step (speculation), not yet counted in the usage or the estimates. */
export interface Prefetched {
  readonly step: number
  readonly kind: StepKind
  readonly generation: GenerationRequest
  readonly fiber: Fiber.Fiber<TimedGeneration, GenerationFailed>
  /** From now on, `onSample` hears the call's samples (those finished already at once). */
  readonly listen: (onSample: SampleListener) => void
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
   * Starts a generation call ahead of its step, in a fiber of the calling one (interrupting it aborts the call). It
   * counts for nothing until `adopt` takes it: a discarded one leaves the usage and the budget as if never made.
   */
  readonly prefetch: (
    step: number,
    kind: StepKind,
    generation: GenerationRequest,
    /**
     * Whether the step will listen to the call's samples as they finish (default yes). When not, the call is made
     * unstreamed (a stream parsed token by token for no one cost a third of the gateway's upstream calls, issue #24);
     * a listener that comes anyway hears nothing early, as with a generator that cannot tell.
     */
    listened?: boolean,
  ) => Effect.Effect<Prefetched>
  /** Waits for a prefetched call under the deadline (as if it had been made now) and counts it like `generate`. */
  readonly adopt: (prefetched: Prefetched) => Effect.Effect<TimedGeneration, GenerationFailed | DeadlineReached>
  readonly compare: (step: number, match: MatchInput) => Effect.Effect<Verdict, JudgeFailed | DeadlineReached>
  readonly checkReasoning: (
    step: number,
    input: CorrectnessInput,
  ) => Effect.Effect<CorrectnessVerdict, JudgeFailed | DeadlineReached>
  /** The judge scores candidates one by one (a step keeps the highest) instead of comparing pairs. */
  readonly pointwise: boolean
  readonly score: (step: number, input: ScoreInput) => Effect.Effect<Scores, JudgeFailed | DeadlineReached>
}

export const makeRun = Effect.fnUntraced(function* (request: SearchRequest, seed: number) {
  const generator = yield* CandidateGenerator
  const judge = yield* Judge
  const trace = yield* makeTrace()
  const usage = makeUsage()
  const budget = makeBudget(request, trace, usage)
  const selection = resolveSelection(request)

  const call = (step: number, kind: StepKind, generation: GenerationRequest, onSample?: SampleListener) =>
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

  const generate: Run["generate"] = (step, kind, generation, final = false, onSample) =>
    Effect.gen(function* () {
      const startedAtMs = yield* trace.elapsed
      const result = yield* budget.withinDeadline(
        call(step, kind, generation, onSample),
        `the ${kind} generation call`,
        !final,
      )
      return account({ result, startedAtMs, endedAtMs: yield* trace.elapsed })
    })

  const prefetch: Run["prefetch"] = (step, kind, generation, listened = true) =>
    Effect.gen(function* () {
      const startedAtMs = yield* trace.elapsed
      // Samples heard before anyone listens are kept for the listener.
      const heard: Array<readonly [number, GeneratedText]> = []
      let listener: SampleListener | undefined
      const onSample: SampleListener = (index, sample) =>
        listener === undefined ? heard.push([index, sample]) : listener(index, sample)
      const fiber = yield* Effect.forkChild(
        Effect.gen(function* () {
          const result = yield* call(step, kind, generation, listened ? onSample : undefined)
          return { result, startedAtMs, endedAtMs: yield* trace.elapsed } satisfies TimedGeneration
        }),
      )
      const listen = (next: SampleListener) => {
        for (const [index, sample] of heard.splice(0)) next(index, sample)
        listener = next
      }
      return { step, kind, generation, fiber, listen } satisfies Prefetched
    })

  const adopt: Run["adopt"] = (prefetched) =>
    budget
      .withinDeadline(Fiber.join(prefetched.fiber), `the ${prefetched.kind} generation call`)
      .pipe(Effect.ensuring(Fiber.interrupt(prefetched.fiber)), Effect.map(account))

  const pairwise = isPointwise(judge) ? undefined : judge
  const pointwise = isPointwise(judge) ? judge : undefined
  // The strategies ask a judge only for what it does (Step.ts branches on `pointwise`; SWIRES is refused before).
  const unsupported = (what: string) =>
    Effect.die(new Error(`a ${pointwise === undefined ? "pairwise" : "pointwise"} judge cannot ${what}`))

  const compare: Run["compare"] = (step, match) =>
    budget
      .withinDeadline(
        (pairwise === undefined ? unsupported("compare two candidates") : pairwise.compare(match)).pipe(
          Effect.mapError(
            (cause) =>
              new JudgeFailed({
                step,
                kind: match.kind,
                message: `a ${match.kind} judge call failed: ${cause.message}`,
                cause,
              }),
          ),
        ),
        `a ${match.kind} judge call`,
      )
      .pipe(
        Effect.tap((verdict) =>
          Effect.sync(() =>
            usage.verdict({
              promptTokens: verdict.promptTokens,
              completionTokens: verdict.completionTokens,
              calls: verdict.calls ?? 1,
              tokensEstimated: verdict.tokensEstimated,
            }),
          ),
        ),
      )

  const checkReasoning: Run["checkReasoning"] = (step, input) =>
    budget
      .withinDeadline(
        (pairwise === undefined ? unsupported("check a reasoning") : pairwise.checkReasoning(input)).pipe(
          Effect.mapError(
            (cause) =>
              new JudgeFailed({
                step,
                kind: "REASONING",
                message: `a reasoning check failed: ${cause.message}`,
                cause,
              }),
          ),
        ),
        "a reasoning check",
      )
      .pipe(Effect.tap((verdict) => Effect.sync(() => usage.check(verdict))))

  const score: Run["score"] = (step, input) =>
    budget
      .withinDeadline(
        (pointwise === undefined ? unsupported("score candidates") : pointwise.score(input)).pipe(
          Effect.mapError(
            (cause) =>
              new JudgeFailed({
                step,
                kind: input.kind,
                message: `a ${input.kind} scoring call failed: ${cause.message}`,
                cause,
              }),
          ),
        ),
        `a ${input.kind} scoring call`,
      )
      .pipe(
        Effect.tap((scores) =>
          Effect.sync(() =>
            usage.scoring({
              promptTokens: scores.promptTokens,
              completionTokens: scores.completionTokens,
              calls: scores.calls ?? 1,
              tokensEstimated: scores.tokensEstimated,
            }),
          ),
        ),
      )

  return {
    request,
    seed,
    selection,
    trace,
    usage,
    budget,
    generate,
    prefetch,
    adopt,
    compare,
    checkReasoning,
    pointwise: pointwise !== undefined,
    score,
  } satisfies Run
})
