import { Duration, Effect, Metric } from "effect"
import type { CallTimes } from "./CallTimes.ts"
import type { NoCapacity, UpstreamError } from "./FleetError.ts"
import { hedges } from "./FleetMetrics.ts"
import type { RetryBudget } from "./RetryBudget.ts"

const HEDGE_QUANTILE = 0.9

/**
 * A hedged call: when the first try is slower than 9 in 10 recent calls of its label, a second goes to another
 * server (from the retry budget); the first to answer wins and the other is interrupted, which aborts its HTTP
 * request; the first try's failure ends the call as it would unhedged. A label seen fewer than 10 times goes by its family's calls (CallTimes.familyLatencyQuantile): an N=4
 * search makes up to 3 judge calls per stage (fewer where candidates are merged, as conclusions often are), so each
 * stage's label waited 4 searches or more, and a server that hung meanwhile held its calls to the try's deadline
 * (5 s) unhedged. A family's quantile may be early for its slowest label; an early hedge costs a retry from the
 * budget, not a failure.
 */
export const makeHedging =
  (options: { readonly pool: string; readonly times: CallTimes; readonly budget: RetryBudget }) =>
  <A>(label: string, one: Effect.Effect<A, UpstreamError | NoCapacity>) =>
    Effect.gen(function* () {
      const after = yield* options.times.familyLatencyQuantile(label, HEDGE_QUANTILE)
      if (after === undefined) return yield* one
      // The hedge only ever wins: refused by the budget, or failed, it waits for the first try, whose failure is the
      // call's, as unhedged (failover then decides). With `race`, a first try that failed while the hedge was refused
      // (never) left the call waiting for its deadline.
      const second = Effect.sleep(Duration.millis(after)).pipe(
        Effect.andThen(options.budget.take),
        Effect.flatMap((allowed) =>
          allowed
            ? Effect.andThen(Metric.update(Metric.withAttributes(hedges, { pool: options.pool }), 1), one)
            : Effect.never,
        ),
        Effect.catch(() => Effect.never),
      )
      return yield* Effect.raceFirst(one, second)
    })
