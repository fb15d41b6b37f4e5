import { Clock, Duration, Effect } from "effect"

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
  /** `called` as a plain call at Clock millis `now`, for a call's first step (issue #24). */
  readonly calledAt: (now: number) => void
  /** Takes one retry from the budget; false when it is spent (the call fails instead of retrying). */
  readonly take: Effect.Effect<boolean>
}

/**
 * Retries a budget allows over its 10 s window whatever the traffic (2 a second; Linkerd's default is 10). It is
 * what a burst draws on before the window holds enough calls for the ratio: at 5, a burst at a 10% error rate spent
 * it in one try out of ten (5 failures among its first 25 calls) and calls failed; at 20, about one in 600.
 */
export const RETRY_BUDGET_MINIMUM = 20

/** The window is counted in this many slices: a slice's counts leave the window together. */
const SLICES = 10

/**
 * A pool-wide budget of retries over a sliding window, as Finagle's and Envoy's: retries may add at most `ratio`
 * extra calls, so a fleet where every server fails sees a few more calls, not a retry storm. Counts are kept per
 * tenth of the window (constant work per call, however many calls the window holds).
 */
export const makeRetryBudget = Effect.fnUntraced(function* (options: RetryBudgetOptions) {
  const sliceMs = Math.max(1, Duration.toMillis(options.window) / SLICES)
  const calls = new Array<number>(SLICES).fill(0)
  const retries = new Array<number>(SLICES).fill(0)
  let latest = Math.floor((yield* Clock.currentTimeMillis) / sliceMs)
  /** Moves the window to `now`, emptying the slices it left behind; returns the current slice's index. */
  const advance = (now: number) => {
    const slice = Math.floor(now / sliceMs)
    for (let passed = latest + 1; passed <= slice && passed <= latest + SLICES; passed++) {
      calls[passed % SLICES] = 0
      retries[passed % SLICES] = 0
    }
    latest = Math.max(latest, slice)
    return latest % SLICES
  }
  const total = (counts: ReadonlyArray<number>) => counts.reduce((sum, n) => sum + n, 0)
  const calledAt = (now: number) => {
    calls[advance(now)]! += 1
  }
  return {
    called: Effect.map(Clock.currentTimeMillis, calledAt),
    calledAt,
    take: Effect.map(Clock.currentTimeMillis, (now) => {
      const slice = advance(now)
      if (total(retries) >= Math.max(options.minimum, options.ratio * total(calls))) return false
      retries[slice]! += 1
      return true
    }),
  } satisfies RetryBudget
})
