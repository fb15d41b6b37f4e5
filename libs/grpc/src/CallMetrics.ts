import { Cause, Clock, Effect, Exit, Metric, Option, Stream } from "effect"
import type { GrpcStatusError } from "./GrpcStatusError.ts"
import { type MethodHandler, type ServiceImplementation, serverStream, unary } from "./Handlers.ts"

export interface CallMetrics {
  /** Counted once per call, with attributes `method` and `outcome` ("OK", the status name, or "CANCELLED"). */
  readonly calls: Metric.Metric<number, unknown>
  /** Seconds from the call's arrival to its end, with attribute `method`. */
  readonly duration: Metric.Metric<number, unknown>
}

/**
 * "OK", the failure's status name, "INTERNAL" for a defect (answered INTERNAL), or "CANCELLED" when the call ended
 * without either (the client went away).
 */
const outcomeOf = (exit: Exit.Exit<unknown, GrpcStatusError>): string =>
  Exit.isSuccess(exit)
    ? "OK"
    : Option.getOrElse(
        Option.map(Cause.findErrorOption(exit.cause), (error) => error.statusName),
        () => (Cause.hasDies(exit.cause) ? "INTERNAL" : "CANCELLED"),
      )

// Made once, not per call: a generator function made per call keeps the call's objects until a mark-compact.
const record = Effect.fnUntraced(function* (
  metrics: CallMetrics,
  method: string,
  started: number,
  exit: Exit.Exit<unknown, GrpcStatusError>,
) {
  yield* Metric.update(Metric.withAttributes(metrics.calls, { method, outcome: outcomeOf(exit) }), 1)
  const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
  yield* Metric.update(Metric.withAttributes(metrics.duration, { method }), seconds)
})

const measured = <R>(method: string, handler: MethodHandler<R>, metrics: CallMetrics): MethodHandler<R> =>
  handler._tag === "Unary"
    ? unary((request: never, ctx) =>
        Effect.flatMap(Clock.currentTimeMillis, (started) =>
          handler.handle(request, ctx).pipe(Effect.onExit((exit) => record(metrics, method, started, exit))),
        ),
      )
    : serverStream((request: never, ctx) =>
        Stream.unwrap(
          Effect.map(Clock.currentTimeMillis, (started) =>
            handler.handle(request, ctx).pipe(Stream.onExit((exit) => record(metrics, method, started, exit))),
          ),
        ),
      )

/** Middleware: every method of the implementation counted by outcome and timed, in the metrics given. */
export const withCallMetrics = <R>(
  implementation: ServiceImplementation<R>,
  metrics: CallMetrics,
): ServiceImplementation<R> =>
  Object.fromEntries(
    Object.entries(implementation).map(([method, handler]) => [method, measured(method, handler, metrics)]),
  )
