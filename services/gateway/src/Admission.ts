import { Clock, Context, Deferred, Duration, Effect, Layer, Metric, Ref } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { DeadlinePassed, Overloaded } from "./GatewayErrors.ts"
import { admissionSequences, admissionWaiting } from "./GatewayMetrics.ts"

interface Waiter {
  readonly sequences: number
  readonly admitted: Deferred.Deferred<void>
}

interface State {
  /** Sequences not held by a running search. */
  readonly free: number
  /** Searches waiting, first come first. */
  readonly queue: ReadonlyArray<Waiter>
}

/** Admits waiters from the head of the queue while they fit: none is overtaken by a later, smaller one. */
const admitFromHead = (state: State): readonly [ReadonlyArray<Waiter>, State] => {
  const admitted: Array<Waiter> = []
  let { free } = state
  let index = 0
  while (index < state.queue.length && state.queue[index]!.sequences <= free) {
    free -= state.queue[index]!.sequences
    admitted.push(state.queue[index]!)
    index++
  }
  return [admitted, { free, queue: state.queue.slice(index) }]
}

/**
 * Admission control, in sequences: a search holds as many as it samples candidates at once (N, GREEDY 1), since
 * that is what it occupies of the GPU servers' `max_num_seqs` slots. Searches are admitted first come, first
 * served: one that does not fit waits, and every later one waits behind it, so a large N is never overtaken
 * forever. Up to `maxQueued` searches wait; beyond that a call is refused at once (RESOURCE_EXHAUSTED) instead of
 * piling up work that vLLM would queue without limit. A waiting call gives up when its deadline passes.
 */
export class Admission extends Context.Service<
  Admission,
  {
    /** Runs `work` holding `sequences`; fails with DeadlinePassed if they do not free up by `deadlineAt`. */
    readonly admit: <A, E, R>(
      work: Effect.Effect<A, E, R>,
      options: { readonly sequences: number; readonly deadlineAt: number },
    ) => Effect.Effect<A, E | Overloaded | DeadlinePassed, R>
    /** Searches waiting, for logs and tests. */
    readonly load: Effect.Effect<{ readonly waiting: number }>
  }
>()("@stagebeam/gateway/Admission") {
  static readonly layer = Layer.effect(
    Admission,
    Effect.gen(function* () {
      const { maxRunningSequences, maxQueued } = (yield* GatewaySettings).admission
      const state = yield* Ref.make<State>({ free: maxRunningSequences, queue: [] })

      const report = Effect.flatMap(Ref.get(state), (now) =>
        Effect.andThen(
          Metric.update(admissionWaiting, now.queue.length),
          Metric.update(admissionSequences, maxRunningSequences - now.free),
        ),
      )
      yield* report

      const overloaded = new Overloaded({
        message: `the gateway is at capacity (${maxRunningSequences} sequences running, ${maxQueued} calls queued); retry later`,
      })

      /** Applies `change`, then admits whoever now fits at the head of the queue. */
      const settle = (change: (state: State) => State) =>
        Effect.flatMap(
          Ref.modify(state, (current) => admitFromHead(change(current))),
          (admitted) =>
            Effect.andThen(
              Effect.forEach(admitted, (waiter) => Deferred.succeed(waiter.admitted, undefined)),
              report,
            ),
        )

      const release = (sequences: number) => settle((current) => ({ ...current, free: current.free + sequences }))

      /** A waiter that stops waiting: out of the queue, or, if it was admitted meanwhile, its sequences back. */
      const leave = (waiter: Waiter) =>
        Effect.flatMap(
          Ref.modify(state, (current) =>
            current.queue.includes(waiter)
              ? ([false, { ...current, queue: current.queue.filter((queued) => queued !== waiter) }] as const)
              : ([true, current] as const),
          ),
          (wasAdmitted) => (wasAdmitted ? release(waiter.sequences) : settle((current) => current)),
        )

      const waitFor = (waiter: Waiter, deadlineAt: number) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Deferred.await(waiter.admitted).pipe(
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
        // A search larger than the whole capacity still runs, alone.
        const sequences = Math.max(1, Math.min(options.sequences, maxRunningSequences))
        return Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            const waiter: Waiter = { sequences, admitted: yield* Deferred.make<void>() }
            const decision = yield* Ref.modify(state, (current) => {
              if (current.queue.length === 0 && current.free >= sequences) {
                return ["run", { ...current, free: current.free - sequences }] as const
              }
              if (current.queue.length >= maxQueued) return ["refuse", current] as const
              return ["wait", { ...current, queue: [...current.queue, waiter] }] as const
            })
            if (decision === "refuse") return yield* overloaded
            yield* report
            if (decision === "wait") {
              yield* restore(waitFor(waiter, options.deadlineAt)).pipe(
                Effect.onExit((exit) => (exit._tag === "Success" ? Effect.void : leave(waiter))),
              )
            }
            return yield* restore(work).pipe(Effect.ensuring(release(sequences)))
          }),
        )
      }

      return Admission.of({
        admit,
        load: Effect.map(Ref.get(state), (current) => ({ waiting: current.queue.length })),
      })
    }),
  )
}
