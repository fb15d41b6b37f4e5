import { Clock, Duration, Effect, Ref } from "effect"

export interface RetryBudgetOptions {
  /** Retries (and hedges) allowed as a share of the calls made over the window, e.g. 0.2. */
  readonly ratio: number
  /** Retries allowed over the window whatever the traffic, so a quiet pool can still fail over. */
  readonly minimum: number
  readonly window: Duration.Duration
}

export interface RetryBudget {
  /** Counts a call's first try. */
  readonly called: Effect.Effect<void>
  /** Takes one retry from the budget; false when it is spent (the call fails instead of retrying). */
  readonly take: Effect.Effect<boolean>
}

/**
 * A pool-wide budget of retries over a sliding window, as Finagle's and Envoy's: retries may add at most `ratio`
 * extra calls, so a fleet where every server fails sees a few more calls, not a retry storm.
 */
export const makeRetryBudget = Effect.fnUntraced(function* (options: RetryBudgetOptions) {
  const windowMs = Duration.toMillis(options.window)
  const state = yield* Ref.make<{ readonly calls: ReadonlyArray<number>; readonly retries: ReadonlyArray<number> }>({
    calls: [],
    retries: [],
  })
  const recent = (times: ReadonlyArray<number>, now: number) => times.filter((at) => now - at < windowMs)
  return {
    called: Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Ref.update(state, (current) => ({ ...current, calls: [...recent(current.calls, now), now] })),
    ),
    take: Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Ref.modify(state, (current) => {
        const calls = recent(current.calls, now)
        const retries = recent(current.retries, now)
        const allowed = Math.max(options.minimum, options.ratio * calls.length)
        return retries.length < allowed ? [true, { calls, retries: [...retries, now] }] : [false, { calls, retries }]
      }),
    ),
  } satisfies RetryBudget
})
