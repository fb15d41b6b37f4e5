import { Effect, Fiber } from "effect"
import { type CutShortReason, DeadlineReached } from "./Errors.ts"
import { joinOrElse, timeoutOrElse } from "./Timeout.ts"
import type { Trace } from "./Trace.ts"
import type { UsageCounter } from "./Usage.ts"

export interface CutShort {
  readonly reason: CutShortReason
  readonly detail: string
}

export interface Budget {
  /**
   * Whether another generation call or tournament round fits in the token budget and the deadline, judged from the
   * costliest one so far, keeping back what completing a cut answer needs. When it does not fit, this cuts the
   * search short (once: the cut is recorded and published) and answers false.
   */
  readonly cutUnlessRoomFor: (what: "generation" | "round") => Effect.Effect<boolean>
  /** Cuts the search short for another reason (the sentence limit). */
  readonly cut: (reason: CutShortReason, detail: string) => Effect.Effect<void>
  readonly cutState: () => CutShort | undefined
  /**
   * Bounds a call by the time left: the hard stop behind `cutUnlessRoomFor`, whose estimate can be short (a later
   * stage may take longer than any before it). Search calls stop early enough to leave room for completing a cut
   * answer (`keepReserve`); the completion itself may use all that is left. Reaching the bound cuts the search short.
   */
  readonly withinDeadline: <A, E, R>(
    call: Effect.Effect<A, E, R>,
    what: string,
    keepReserve?: boolean,
  ) => Effect.Effect<A, E | DeadlineReached, R>
  /**
   * `withinDeadline(Fiber.join(fiber))` without a fiber to join it in: waits for a call already running (started
   * ahead, see Prefetch.ts), which is left running when the deadline is reached (its owner ends it).
   */
  readonly joinWithinDeadline: <A, E>(fiber: Fiber.Fiber<A, E>, what: string) => Effect.Effect<A, E | DeadlineReached>
  /** A finished generation call: its duration, tokens, and the longest of its samples, for the estimates. */
  readonly recordGeneration: (ms: number, tokens: number, longestSampleTokens: number) => void
  /** A finished tournament round, for the estimates. */
  readonly recordRound: (ms: number, tokens: number) => void
  /** How many steps follow the current one: completing a cut answer takes one unjudged sample each. */
  readonly planStepsAfter: (steps: number) => void
  /** Ms left before the deadline (Infinity without one). */
  readonly timeLeft: Effect.Effect<number>
  /** Completion tokens left in the budget (Infinity without one). */
  readonly tokensLeft: () => number
}

/** The request's token budget and deadline (ms of the search's clock), checked against what the calls cost. */
export const makeBudget = (
  limits: { readonly tokenBudget?: number | undefined; readonly deadlineMs?: number | undefined },
  trace: Trace,
  usage: UsageCounter,
): Budget => {
  const largest = { generationMs: 0, generationTokens: 0, sampleTokens: 0, roundMs: 0, roundTokens: 0 }
  let stepsAfterCurrent = 0
  let state: CutShort | undefined
  const reserveMs = () => largest.generationMs * stepsAfterCurrent
  const reserveTokens = () => largest.sampleTokens * stepsAfterCurrent

  const cut = (reason: CutShortReason, detail: string) =>
    Effect.suspend(() => {
      if (state !== undefined) return Effect.void
      state = { reason, detail }
      return trace.emitNow({ _tag: "SearchCutShort", reason, detail })
    })

  const timeLeft = Effect.map(trace.elapsed, (now) =>
    limits.deadlineMs === undefined ? Infinity : limits.deadlineMs - now,
  )

  // A chain, not a generator: a generator function made per search gets a map of its own in V8's old generation that
  // keeps the search's objects through each young collection until a mark-compact (StepMatch's playMatch).
  const cutUnlessRoomFor = (what: "generation" | "round"): Effect.Effect<boolean> =>
    Effect.suspend(() => {
      if (state !== undefined) return Effect.succeed(false)
      // A step is its generation call and at least one round; a round is a round.
      const estimateMs = what === "generation" ? largest.generationMs + largest.roundMs : largest.roundMs
      const estimateTokens =
        what === "generation" ? largest.generationTokens + largest.roundTokens : largest.roundTokens
      if (limits.tokenBudget !== undefined) {
        const used = usage.completionTokens()
        const reserve = reserveTokens()
        if (used + estimateTokens + reserve > limits.tokenBudget || used >= limits.tokenBudget) {
          return Effect.as(
            cut(
              "BUDGET",
              `${used} of ${limits.tokenBudget} tokens used; another ${what} takes about ${estimateTokens} ` +
                `and completing the answer about ${reserve}`,
            ),
            false,
          )
        }
      }
      const deadlineMs = limits.deadlineMs
      if (deadlineMs === undefined) return Effect.succeed(true)
      return Effect.flatMap(trace.elapsed, (now) => {
        const reserve = reserveMs()
        if (now + estimateMs + reserve > deadlineMs || now >= deadlineMs) {
          return Effect.as(
            cut(
              "DEADLINE",
              `${Math.max(0, deadlineMs - now)} ms left; another ${what} takes about ${estimateMs} ms ` +
                `and completing the answer about ${reserve} ms`,
            ),
            false,
          )
        }
        return Effect.succeed(true)
      })
    })

  /** Runs `within(ms left, reached)`, or `unbounded` without a deadline; a call with no time left is not made. */
  const bounded = <A, E, R>(
    what: string,
    keepReserve: boolean,
    unbounded: () => Effect.Effect<A, E, R>,
    within: (left: number, reached: () => Effect.Effect<never, DeadlineReached>) => Effect.Effect<A, E, R>,
  ): Effect.Effect<A, E | DeadlineReached, R> =>
    Effect.flatMap(timeLeft, (time): Effect.Effect<A, E | DeadlineReached, R> => {
      const left = time - (keepReserve ? reserveMs() : 0)
      if (left === Infinity) return unbounded()
      // Made only when reached: an error records a stack trace, and most calls finish in time.
      const reached = () =>
        Effect.andThen(
          cut("DEADLINE", `${what} did not finish before the deadline`),
          Effect.suspend(() =>
            Effect.fail(new DeadlineReached({ message: `${what} did not finish before the deadline` })),
          ),
        )
      if (left <= 0) return reached()
      return within(left, reached)
    })

  const withinDeadline = <A, E, R>(call: Effect.Effect<A, E, R>, what: string, keepReserve = true) =>
    bounded<A, E | DeadlineReached, R>(
      what,
      keepReserve,
      () => call,
      (left, reached) => timeoutOrElse(call, left, reached),
    )

  const joinWithinDeadline = <A, E>(fiber: Fiber.Fiber<A, E>, what: string) =>
    bounded<A, E | DeadlineReached, never>(
      what,
      true,
      () => Fiber.join(fiber),
      (left, reached) => joinOrElse(fiber, left, reached),
    )

  return {
    cutUnlessRoomFor,
    cut,
    cutState: () => state,
    withinDeadline,
    joinWithinDeadline,
    recordGeneration: (ms, tokens, longestSampleTokens) => {
      largest.generationMs = Math.max(largest.generationMs, ms)
      largest.generationTokens = Math.max(largest.generationTokens, tokens)
      largest.sampleTokens = Math.max(largest.sampleTokens, longestSampleTokens)
    },
    recordRound: (ms, tokens) => {
      largest.roundMs = Math.max(largest.roundMs, ms)
      largest.roundTokens = Math.max(largest.roundTokens, tokens)
    },
    planStepsAfter: (steps) => {
      stepsAfterCurrent = steps
    },
    timeLeft,
    tokensLeft: () => (limits.tokenBudget === undefined ? Infinity : limits.tokenBudget - usage.completionTokens()),
  }
}
