import { Effect } from "effect"

/**
 * A span for a function called on every upstream call, without the stack trace `Effect.fn` captures at each call
 * (two Error objects per call; issue #24): use as `Effect.fnUntraced(body, inSpan("Name"))`.
 */
export const inSpan =
  (name: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withSpan(effect, name, { captureStackTrace: false })
