import { Duration, Effect, Metric, Random, Schedule } from "effect"
import type { NoCapacity, UpstreamError } from "./FleetError.ts"
import { retriesRefused } from "./FleetMetrics.ts"
import type { RetryBudget } from "./RetryBudget.ts"

/** A delay jittered to between half and one and a half of itself. */
const jittered = (duration: Duration.Duration) =>
  Effect.map(Random.next, (draw) => Duration.times(duration, 0.5 + draw))

/**
 * Failover's pacing: FIRST_RETRY_DELAY before the first retry, doubling for each after it (laterRetries), each
 * jittered to between half and one and a half.
 */
const FIRST_RETRY_DELAY = Duration.millis(50)
const laterRetries = Schedule.exponential(Duration.times(FIRST_RETRY_DELAY, 2)).pipe(
  Schedule.modifyDelay(({ duration }) => jittered(duration)),
)

const retryable = (error: UpstreamError | NoCapacity) => error._tag === "UpstreamError" && error.retryable

/**
 * A pool's failover: a call's first try, then others on up to `maxAttempts` servers in all (paced as above), each
 * retry taken from the pool's retry budget. Where no server is left to try (the failing ones were taken out), the
 * last server's own error says more than NoCapacity. A first try that succeeds (most calls) runs bare: the retry's
 * schedule, its metadata service and its error handlers are set up only once it failed (issue #24).
 */
export const makeFailover =
  (options: { readonly pool: string; readonly maxAttempts: number; readonly budget: RetryBudget }) =>
  <A>(first: Effect.Effect<A, UpstreamError | NoCapacity>, again: Effect.Effect<A, UpstreamError | NoCapacity>) =>
    Effect.catch(first, (firstError) => {
      let retries = 0
      let lastUpstream: UpstreamError | undefined = firstError._tag === "UpstreamError" ? firstError : undefined

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

      const retried = again.pipe(
        Effect.tapError((error) =>
          Effect.sync(() => {
            if (error._tag === "UpstreamError") lastUpstream = error
          }),
        ),
        Effect.retry({ schedule: laterRetries, while: mayRetry }),
      )
      return Effect.flatMap(mayRetry(firstError), (may) =>
        may
          ? Effect.andThen(Effect.flatMap(jittered(FIRST_RETRY_DELAY), Effect.sleep), retried)
          : Effect.fail(firstError),
      ).pipe(Effect.catchTag("NoCapacity", (error) => Effect.fail(lastUpstream ?? error)))
    })
