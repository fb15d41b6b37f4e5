import type { JudgeKind } from "@stagebeam/cot"
import { Clock, Effect } from "effect"
import { DeadlineReached, type EarlyFinishReason, GenerationFailed, JudgeFailed } from "./Errors.ts"
import { type SearchEvent, SearchEvents, type Usage } from "./Events.ts"
import type { SearchRequest } from "./Request.ts"
import {
  CandidateGenerator,
  type CorrectnessInput,
  type GenerationRequest,
  Judge,
  type MatchInput,
} from "./Services.ts"

type EventBody = SearchEvent extends infer E ? (E extends SearchEvent ? Omit<E, "atMs"> : never) : never

export interface CutShort {
  readonly reason: EarlyFinishReason
  readonly detail: string
}

/**
 * The state of one search run: clock, trace, usage, and the budget/deadline bookkeeping.
 * Durations and token costs of generation calls and tournament rounds are measured as they happen; before the
 * next one, `fits` asks whether the largest one seen so far still fits in what is left.
 */
export const makeRun = Effect.fnUntraced(function* (request: SearchRequest, seed: number) {
  const generator = yield* CandidateGenerator
  const judge = yield* Judge
  const sink = yield* SearchEvents
  const startMs = yield* Clock.currentTimeMillis
  const elapsed = Effect.map(Clock.currentTimeMillis, (now) => now - startMs)
  const trace: Array<SearchEvent> = []
  const usage: { -readonly [K in keyof Usage]: Usage[K] } = {
    promptTokens: 0,
    completionTokens: 0,
    generationCalls: 0,
    judgeCalls: 0,
    correctnessChecks: 0,
  }
  const largest = { generationMs: 0, generationTokens: 0, sampleTokens: 0, roundMs: 0, roundTokens: 0 }
  /** Steps the strategy still has to take after the current one (a cut answer's completion writes them). */
  let stepsAfterCurrent = 0
  /** Time kept back to complete a cut answer: one generation call per step still to come. */
  const reserveMs = () => largest.generationMs * stepsAfterCurrent
  /** Tokens kept back likewise: one sample per step still to come. */
  const reserveTokens = () => largest.sampleTokens * stepsAfterCurrent
  let cut: CutShort | undefined

  const emit = (event: SearchEvent) =>
    Effect.suspend(() => {
      trace.push(event)
      return sink.publish(event)
    })

  /** Emits an event stamped with the current time (events with their own start/end times use `emit`). */
  const emitNow = (body: EventBody) => Effect.flatMap(elapsed, (atMs) => emit({ ...body, atMs } as SearchEvent))

  const cutShort = (reason: EarlyFinishReason, detail: string) =>
    Effect.gen(function* () {
      if (cut !== undefined) return false
      cut = { reason, detail }
      yield* emitNow({ _tag: "SearchCutShort", reason, detail })
      return false
    })

  /**
   * Whether another generation call or tournament round fits in the budget and the deadline (else: cut short).
   * Time and tokens for the steps still to come (one unjudged sample each) are kept back, so that a cut answer can
   * still be completed.
   */
  const fits = (what: "generation" | "round") =>
    Effect.gen(function* () {
      if (cut !== undefined) return false
      // A step is its generation call and at least one round; a round is a round.
      const estimateMs = what === "generation" ? largest.generationMs + largest.roundMs : largest.roundMs
      const estimateTokens =
        what === "generation" ? largest.generationTokens + largest.roundTokens : largest.roundTokens
      if (request.tokenBudget !== undefined) {
        const used = usage.completionTokens
        const reserve = reserveTokens()
        if (used + estimateTokens + reserve > request.tokenBudget || used >= request.tokenBudget) {
          return yield* cutShort(
            "BUDGET",
            `${used} of ${request.tokenBudget} tokens used; another ${what} takes about ${estimateTokens} ` +
              `and completing the answer about ${reserve}`,
          )
        }
      }
      if (request.deadlineMs !== undefined) {
        const now = yield* elapsed
        const reserve = reserveMs()
        if (now + estimateMs + reserve > request.deadlineMs || now >= request.deadlineMs) {
          return yield* cutShort(
            "DEADLINE",
            `${Math.max(0, request.deadlineMs - now)} ms left; another ${what} takes about ${estimateMs} ms ` +
              `and completing the answer about ${reserve} ms`,
          )
        }
      }
      return true
    })

  /** Ms left before the deadline (Infinity without one). */
  const timeLeft = Effect.map(elapsed, (now) =>
    request.deadlineMs === undefined ? Infinity : request.deadlineMs - now,
  )

  /**
   * Bounds a call by the time left: the hard stop behind `fits`, whose estimate can be short (a later stage may
   * take longer than any before it). Search calls stop early enough to leave room for the completion of a cut
   * answer (`keepReserve`); the completion itself may use all that is left. Reaching the bound cuts the search short.
   */
  const withinDeadline = <A, E, R>(call: Effect.Effect<A, E, R>, what: string, keepReserve = true) =>
    Effect.gen(function* () {
      const left = (yield* timeLeft) - (keepReserve ? reserveMs() : 0)
      if (left === Infinity) return yield* call
      const reached = Effect.andThen(
        cutShort("DEADLINE", `${what} did not finish before the deadline`),
        Effect.fail(new DeadlineReached({ message: `${what} did not finish before the deadline` })),
      )
      if (left <= 0) return yield* reached
      return yield* call.pipe(Effect.timeoutOrElse({ duration: left, orElse: () => reached }))
    })

  /** One generation call; `final` marks the completion of a cut answer, which may use all the time left. */
  const generate = (step: number, kind: JudgeKind, generation: GenerationRequest, final = false) =>
    Effect.gen(function* () {
      const startedAtMs = yield* elapsed
      const result = yield* withinDeadline(
        generator
          .generate(generation)
          .pipe(
            Effect.mapError(
              (cause) =>
                new GenerationFailed({ step, kind, retryable: cause.retryable, message: cause.message, cause }),
            ),
          ),
        `the ${kind} generation call`,
        !final,
      )
      const endedAtMs = yield* elapsed
      const tokens = result.samples.reduce((sum, sample) => sum + sample.completionTokens, 0)
      usage.generationCalls++
      usage.promptTokens += result.promptTokens
      usage.completionTokens += tokens
      largest.generationMs = Math.max(largest.generationMs, endedAtMs - startedAtMs)
      largest.generationTokens = Math.max(largest.generationTokens, tokens)
      for (const sample of result.samples)
        largest.sampleTokens = Math.max(largest.sampleTokens, sample.completionTokens)
      return { result, startedAtMs, endedAtMs }
    })

  const compare = (step: number, match: MatchInput) =>
    withinDeadline(
      judge
        .compare(match)
        .pipe(
          Effect.mapError(
            (cause) =>
              new JudgeFailed({ step, kind: match.kind, retryable: cause.retryable, message: cause.message, cause }),
          ),
        ),
      `a ${match.kind} judge call`,
    ).pipe(
      Effect.tap((verdict) =>
        Effect.sync(() => {
          usage.judgeCalls += verdict.calls ?? 1
          usage.promptTokens += verdict.promptTokens
          usage.completionTokens += verdict.completionTokens
        }),
      ),
    )

  const checkReasoning = (step: number, input: CorrectnessInput) =>
    withinDeadline(
      judge
        .checkReasoning(input)
        .pipe(
          Effect.mapError(
            (cause) =>
              new JudgeFailed({ step, kind: "REASONING", retryable: cause.retryable, message: cause.message, cause }),
          ),
        ),
      "a reasoning check",
    ).pipe(
      Effect.tap((verdict) =>
        Effect.sync(() => {
          usage.correctnessChecks++
          usage.promptTokens += verdict.promptTokens
          usage.completionTokens += verdict.completionTokens
        }),
      ),
    )

  /** Records one finished tournament round (its duration and token cost) for the estimates. */
  const recordRound = (durationMs: number, tokens: number) =>
    Effect.sync(() => {
      largest.roundMs = Math.max(largest.roundMs, durationMs)
      largest.roundTokens = Math.max(largest.roundTokens, tokens)
    })

  return {
    request,
    seed,
    elapsed,
    emit,
    emitNow,
    fits,
    cutShort,
    generate,
    compare,
    checkReasoning,
    recordRound,
    trace,
    usage,
    /** Completion tokens left in the budget (Infinity without one). */
    tokensLeft: () => (request.tokenBudget === undefined ? Infinity : request.tokenBudget - usage.completionTokens),
    cutState: () => cut,
    timeLeft,
    /** The strategy says how many steps follow the current one, so the deadline keeps room to complete them. */
    planStepsAfter: (steps: number) =>
      Effect.sync(() => {
        stepsAfterCurrent = steps
      }),
  }
})

export type Run = Effect.Success<ReturnType<typeof makeRun>>
