import { Effect, Layer } from "effect"

/**
 * SIGHUP (a terminal closing, an operator's `kill -HUP` out of habit) would kill Node by default, with no drain.
 * Nothing needs it to reload: bearer tokens are re-read every 5 s and certificates every minute. It is logged and
 * otherwise ignored while the gateway runs.
 */
export const hangupLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const services = yield* Effect.context<never>()
    const onHangup = () =>
      Effect.runForkWith(services)(
        Effect.logInfo(
          "SIGHUP ignored: bearer tokens are re-read every 5 s and certificates every minute; SIGTERM stops the gateway",
        ),
      )
    yield* Effect.acquireRelease(
      Effect.sync(() => process.on("SIGHUP", onHangup)),
      () => Effect.sync(() => process.off("SIGHUP", onHangup)),
    )
  }),
)
