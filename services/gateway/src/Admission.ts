import { Clock, Context, Duration, Effect, Layer, Ref, Semaphore } from "effect"
import type { DeadlinePassed, Overloaded } from "./ErrorStatus.ts"
import { GatewaySettings } from "./Settings.ts"

/**
 * Admission control: at most `maxConcurrent` searches run; up to `maxQueued` more wait their turn; beyond that a
 * call is refused at once (RESOURCE_EXHAUSTED) instead of piling up work vLLM would queue without limit.
 */
export class Admission extends Context.Service<
  Admission,
  {
    /** Runs `work` when a slot is free; gives up with DeadlinePassed if none frees up before `deadlineAt`. */
    readonly admit: <A, E, R>(
      work: Effect.Effect<A, E, R>,
      deadlineAt: number,
    ) => Effect.Effect<A, E | Overloaded | DeadlinePassed, R>
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

      const waitForSlot = (deadlineAt: number) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          running.take(1).pipe(
            Effect.timeoutOrElse({
              duration: Duration.millis(Math.max(0, deadlineAt - now)),
              orElse: () =>
                Effect.fail<DeadlinePassed>({
                  _tag: "DeadlinePassed",
                  message: "the deadline passed while the call waited for admission",
                }),
            }),
          ),
        )

      const admit = <A, E, R>(
        work: Effect.Effect<A, E, R>,
        deadlineAt: number,
      ): Effect.Effect<A, E | Overloaded | DeadlinePassed, R> =>
        Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            const accepted = yield* Ref.modify(admitted, (n) => (n < limit ? [true, n + 1] : [false, n]))
            if (!accepted) {
              return yield* Effect.fail<Overloaded>({
                _tag: "Overloaded",
                message: `the gateway is at capacity (${maxConcurrent} running, ${maxQueued} queued); retry later`,
              })
            }
            const leave = Ref.update(admitted, (n) => n - 1)
            yield* restore(waitForSlot(deadlineAt)).pipe(Effect.onError(() => leave))
            return yield* restore(work).pipe(Effect.ensuring(Effect.andThen(running.release(1), leave)))
          }),
        )

      return Admission.of({ admit, load: Effect.map(Ref.get(admitted), (n) => ({ admitted: n })) })
    }),
  )
}
