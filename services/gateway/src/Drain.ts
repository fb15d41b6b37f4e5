import { GrpcServer } from "@stagebeam/grpc"
import { Context, Deferred, Duration, Effect, Layer, Option } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { ShuttingDown } from "./GatewayErrors.ts"

/** How often the drain looks whether the calls in flight are done. */
const POLL = Duration.millis(50)
/** After the drain time, how long the calls it cut get to send their answer (UNAVAILABLE) before the doors close. */
const CUT_GRACE = Duration.seconds(2)

/**
 * The gateway's shutdown, for every door at once: from SIGTERM on, new Reason calls (gRPC or HTTP) are refused with
 * UNAVAILABLE, the calls in flight get `drainTimeout` to finish, and those still running then answer UNAVAILABLE.
 * One deadline for all doors, so the whole drain fits the pod's grace period (doors drained one after the other
 * would each take their own).
 */
export class Drain extends Context.Service<
  Drain,
  {
    /** Runs a call unless the gateway is shutting down; a call still running when the drain time is over is cut. */
    readonly track: <A, E, R>(call: Effect.Effect<A, E, R>) => Effect.Effect<A, E | ShuttingDown, R>
    /** Starts the drain and waits until the calls in flight are done or cut. */
    readonly run: Effect.Effect<void>
    /** Whether the drain has begun: health says NOT_SERVING from then on, whatever the pools' state. */
    readonly draining: Effect.Effect<boolean>
  }
>()("@stagebeam/gateway/Drain") {
  static readonly layer = Layer.effect(
    Drain,
    Effect.gen(function* () {
      const settings = yield* GatewaySettings
      const over = yield* Deferred.make<void>()
      let draining = false
      let inFlight = 0

      const track = <A, E, R>(call: Effect.Effect<A, E, R>): Effect.Effect<A, E | ShuttingDown, R> =>
        Effect.suspend(() => {
          if (draining) {
            return Effect.fail(
              new ShuttingDown({
                message: "the gateway is shutting down; retry the call (another replica will take it)",
              }),
            )
          }
          inFlight++
          // The error is made only if the drain cuts the call: a Schema error built for every call cost ~0.15 ms.
          const cut = Effect.andThen(Deferred.await(over), () =>
            Effect.fail(
              new ShuttingDown({
                message: "the gateway is shutting down: the call did not finish within its drain time; retry it",
              }),
            ),
          )
          return Effect.raceFirst(call, cut).pipe(
            Effect.ensuring(
              Effect.sync(() => {
                inFlight--
              }),
            ),
          )
        })

      const idle = Effect.sleep(POLL).pipe(Effect.repeat({ until: () => inFlight === 0 }))

      const run = Effect.gen(function* () {
        draining = true
        yield* Effect.logInfo("gateway draining").pipe(
          Effect.annotateLogs({ inFlight, drainTimeout: Duration.format(settings.drainTimeout) }),
        )
        const finished =
          inFlight === 0 ? Option.some(undefined) : yield* Effect.timeoutOption(idle, settings.drainTimeout)
        if (Option.isNone(finished)) {
          yield* Effect.logWarning("gateway drain time over: calls still running answer UNAVAILABLE").pipe(
            Effect.annotateLogs({ cut: inFlight }),
          )
          yield* Deferred.succeed(over, undefined)
          yield* Effect.timeoutOption(idle, CUT_GRACE)
        }
      })

      return Drain.of({ track, run: yield* Effect.cached(run), draining: Effect.sync(() => draining) })
    }),
  )
}

/**
 * Drains every door at once when the gateway stops: this layer is built last, so its finalizer runs first, before
 * any server closes (gRPC turns NOT_SERVING and refuses new calls; the Reasoning path refuses the HTTP door's).
 */
export const shutdownLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const grpc = yield* GrpcServer
    const drain = yield* Drain
    yield* Effect.addFinalizer(() => Effect.all([grpc.drain, drain.run], { concurrency: "unbounded", discard: true }))
  }),
)
