import { Duration, Effect, Metric, Random, Schedule } from "effect"
import type { NoCapacity, UpstreamError } from "./FleetError.ts"
import { retriesRefused } from "./FleetMetrics.ts"
import type { RetryBudget } from "./RetryBudget.ts"

/** Failover's pacing: 50 ms before the first retry, doubling, each jittered to between half and one and a half. */
export const failoverSchedule = Schedule.exponential(Duration.millis(50)).pipe(
  Schedule.modifyDelay(({ duration }) => Effect.map(Random.next, (draw) => Duration.times(duration, 0.5 + draw))),
)

const retryable = (error: UpstreamError | NoCapacity) => error._tag === "UpstreamError" && error.retryable

/**
 * A pool's failover: a call's first try, then others on up to `maxAttempts` servers in all (failoverSchedule), each
 * retry taken from the pool's retry budget. Where no server is left to try (the failing ones were taken out), the
 * last server's own error says more than NoCapacity.
 */
export const makeFailover =
  (options: { readonly pool: string; readonly maxAttempts: number; readonly budget: RetryBudget }) =>
  <A>(first: Effect.Effect<A, UpstreamError | NoCapacity>, again: Effect.Effect<A, UpstreamError | NoCapacity>) =>
    Effect.suspend(() => {
      let retries = 0
      let tries = 0
      let lastUpstream: UpstreamError | undefined

      /** Whether a failed call may try again: a retryable error, tries left, and a retry from the budget. */
      const mayRetry = (error: UpstreamError | NoCapacity) =>
        Effect.gen(function* () {
          if (retries >= options.maxAttempts - 1 || !retryable(error)) return false
          if (!(yield* options.budget.take)) {
            yield* Effect.logWarning("retry budget spent: the call fails without another try").pipe(
              Effect.annotateLogs({ pool: options.pool }),
            )
            yield* Metric.update(Metric.withAttributes(retriesRefused, { pool: options.pool }), 1)
            return false
          }
          retries++
          return true
        })

      return Effect.suspend(() => (tries++ === 0 ? first : again)).pipe(
        Effect.tapError((error) =>
          Effect.sync(() => {
            if (error._tag === "UpstreamError") lastUpstream = error
          }),
        ),
        Effect.retry({ schedule: failoverSchedule, while: mayRetry }),
        Effect.catchTag("NoCapacity", (error) => Effect.fail(lastUpstream ?? error)),
      )
    })
