import { Duration, Effect, Metric } from "effect"
import type { CallTimes } from "./CallTimes.ts"
import type { NoCapacity, UpstreamError } from "./FleetError.ts"
import { hedges } from "./FleetMetrics.ts"
import type { RetryBudget } from "./RetryBudget.ts"

const HEDGE_QUANTILE = 0.9

/**
 * A hedged call: when the first try is slower than 9 in 10 recent calls of its label, a second goes to another
 * server (from the retry budget); the first to answer wins and the other is interrupted, which aborts its HTTP
 * request.
 */
export const makeHedging =
  (options: { readonly pool: string; readonly times: CallTimes; readonly budget: RetryBudget }) =>
  <A>(label: string, one: Effect.Effect<A, UpstreamError | NoCapacity>) =>
    Effect.gen(function* () {
      const after = yield* options.times.latencyQuantile(label, HEDGE_QUANTILE)
      if (after === undefined) return yield* one
      const second = Effect.sleep(Duration.millis(after)).pipe(
        Effect.andThen(options.budget.take),
        Effect.flatMap((allowed) =>
          allowed
            ? Effect.andThen(Metric.update(Metric.withAttributes(hedges, { pool: options.pool }), 1), one)
            : Effect.never,
        ),
      )
      return yield* Effect.race(one, second)
    })
