import { Context, Effect, Layer, Ref, Semaphore } from "effect"
import type { Overloaded } from "./ErrorStatus.ts"
import { GatewaySettings } from "./Settings.ts"

/**
 * Admission control: at most `maxConcurrent` searches run; up to `maxQueued` more wait their turn; beyond that a
 * call is refused at once (RESOURCE_EXHAUSTED) instead of piling up work vLLM would queue without limit.
 */
export class Admission extends Context.Service<
  Admission,
  {
    readonly admit: <A, E, R>(work: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Overloaded, R>
    /** Searches running and waiting, for logs and tests. */
    readonly load: Effect.Effect<{ readonly admitted: number }>
  }
>()("@stagebeam/gateway/Admission") {
  static readonly layer = Layer.effect(
    Admission,
    Effect.gen(function* () {
      const { maxConcurrent, maxQueued } = yield* GatewaySettings
      const running = yield* Semaphore.make(maxConcurrent)
      const admitted = yield* Ref.make(0)
      const limit = maxConcurrent + Math.max(0, maxQueued)

      const admit = <A, E, R>(work: Effect.Effect<A, E, R>): Effect.Effect<A, E | Overloaded, R> =>
        Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            const accepted = yield* Ref.modify(admitted, (n) => (n < limit ? [true, n + 1] : [false, n]))
            if (!accepted) {
              return yield* Effect.fail<Overloaded>({
                _tag: "Overloaded",
                message: `the gateway is at capacity (${maxConcurrent} running, ${maxQueued} queued); retry later`,
              })
            }
            return yield* restore(running.withPermits(1)(work)).pipe(
              Effect.ensuring(Ref.update(admitted, (n) => n - 1)),
            )
          }),
        )

      return Admission.of({ admit, load: Effect.map(Ref.get(admitted), (n) => ({ admitted: n })) })
    }),
  )
}
