import { Clock, Context, Duration, Effect, Layer, Metric, Ref, Semaphore } from "effect"
import { DeadlinePassed, Overloaded } from "./GatewayErrors.ts"
import { admissionSequences, admissionWaiting } from "./GatewayMetrics.ts"
import { GatewaySettings } from "./Settings.ts"

/**
 * Admission control, in sequences: a search holds as many permits as it samples candidates at once (N, GREEDY 1),
 * since that is what it occupies on the GPU servers' `max_num_seqs` slots. Up to `maxQueued` searches wait for
 * permits; beyond that a call is refused at once (RESOURCE_EXHAUSTED) instead of piling up work that vLLM would
 * queue without limit. A waiting call gives up when its deadline passes.
 */
export class Admission extends Context.Service<
  Admission,
  {
    /** Runs `work` holding `sequences` permits; fails with DeadlinePassed if they do not free up by `deadlineAt`. */
    readonly admit: <A, E, R>(
      work: Effect.Effect<A, E, R>,
      options: { readonly sequences: number; readonly deadlineAt: number },
    ) => Effect.Effect<A, E | Overloaded | DeadlinePassed, R>
    /** Sequences held and searches waiting, for logs and tests. */
    readonly load: Effect.Effect<{ readonly waiting: number }>
  }
>()("@stagebeam/gateway/Admission") {
  static readonly layer = Layer.effect(
    Admission,
    Effect.gen(function* () {
      const { maxRunningSequences, maxQueued } = yield* GatewaySettings
      const permits = yield* Semaphore.make(maxRunningSequences)
      const waiting = yield* Ref.make(0)

      const overloaded = new Overloaded({
        message: `the gateway is at capacity (${maxRunningSequences} sequences running, ${maxQueued} calls queued); retry later`,
      })

      const held = yield* Ref.make(0)
      const reportWaiting = Effect.flatMap(Ref.get(waiting), (n) => Metric.update(admissionWaiting, n))
      const reportHeld = (delta: number) =>
        Effect.flatMap(
          Ref.updateAndGet(held, (n) => n + delta),
          (n) => Metric.update(admissionSequences, n),
        )
      yield* reportWaiting
      yield* reportHeld(0)

      const waitFor = (sequences: number, deadlineAt: number) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          permits.take(sequences).pipe(
            Effect.timeoutOrElse({
              duration: Duration.millis(Math.max(0, deadlineAt - now)),
              orElse: () =>
                Effect.fail(new DeadlinePassed({ message: "the deadline passed while the call waited for admission" })),
            }),
          ),
        )

      const admit = <A, E, R>(
        work: Effect.Effect<A, E, R>,
        options: { readonly sequences: number; readonly deadlineAt: number },
      ): Effect.Effect<A, E | Overloaded | DeadlinePassed, R> => {
        const sequences = Math.max(1, Math.min(options.sequences, maxRunningSequences))
        return Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            if (!(yield* permits.takeIfAvailable(sequences))) {
              const queued = yield* Ref.modify(waiting, (n) => (n < maxQueued ? [true, n + 1] : [false, n]))
              if (!queued) return yield* overloaded
              yield* reportWaiting
              yield* restore(waitFor(sequences, options.deadlineAt)).pipe(
                Effect.ensuring(
                  Effect.andThen(
                    Ref.update(waiting, (n) => n - 1),
                    reportWaiting,
                  ),
                ),
              )
            }
            yield* reportHeld(sequences)
            return yield* restore(work).pipe(
              Effect.ensuring(Effect.andThen(permits.release(sequences), reportHeld(-sequences))),
            )
          }),
        )
      }

      return Admission.of({ admit, load: Effect.map(Ref.get(waiting), (n) => ({ waiting: n })) })
    }),
  )
}
