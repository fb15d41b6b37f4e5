import { Clock, Context, Deferred, Duration, Effect, Layer, Metric, Ref } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { DeadlinePassed, Overloaded } from "./GatewayErrors.ts"
import { admissionHeldBytes, admissionSequences, admissionWaiting } from "./GatewayMetrics.ts"

export interface AdmitOptions {
  /** GPU sequences the search occupies at once. */
  readonly sequences: number
  /** Image bytes the call holds while it waits and runs (0 for a text-only question). */
  readonly bytes?: number
  /** Clock millis after which a waiting call gives up. */
  readonly deadlineAt: number
}

/** What an admitted call may do with what it holds. */
export interface Lease {
  /**
   * Holds `bytes` more until the call ends (a fetched image); fails with Overloaded, holding nothing more, when
   * that would pass the budget.
   */
  readonly holdBytes: (bytes: number) => Effect.Effect<void, Overloaded>
}

interface Waiter {
  readonly sequences: number
  readonly admitted: Deferred.Deferred<void>
}

interface State {
  /** Sequences not held by a running search. */
  readonly free: number
  /** Image bytes held by calls waiting or running. */
  readonly heldBytes: number
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
  return [admitted, { ...state, free, queue: state.queue.slice(index) }]
}

/**
 * Admission control, in sequences: a search holds as many as it samples candidates at once (N, GREEDY 1), since
 * that is what it occupies of the GPU servers' `max_num_seqs` slots. Searches are admitted first come, first
 * served: one that does not fit waits, and every later one waits behind it, so a large N is never overtaken
 * forever. Up to `maxQueued` searches wait; beyond that a call is refused at once (RESOURCE_EXHAUSTED) instead of
 * piling up work that vLLM would queue without limit. A waiting call gives up when its deadline passes.
 * Memory is the other resource: the image bytes of every call waiting or running count against `maxHeldBytes`,
 * and a call that would pass it is refused at once, so a flood of large images cannot hold memory without bound.
 * An image fetched from a URL counts from when it has arrived (fetches themselves are few at a time).
 */
export class Admission extends Context.Service<
  Admission,
  {
    /**
     * Runs `work` holding `sequences` and `bytes`; fails with DeadlinePassed if the sequences do not free up by
     * `deadlineAt`. `work` may hold more bytes as it goes (an image it fetched).
     */
    readonly admit: <A, E, R>(
      work: (lease: Lease) => Effect.Effect<A, E, R>,
      options: AdmitOptions,
    ) => Effect.Effect<A, E | Overloaded | DeadlinePassed, R>
    /** Searches waiting and image bytes held, for logs and tests. */
    readonly load: Effect.Effect<{ readonly waiting: number; readonly heldBytes: number }>
  }
>()("@stagebeam/gateway/Admission") {
  static readonly layer = Layer.effect(
    Admission,
    Effect.gen(function* () {
      const { maxRunningSequences, maxQueued, maxHeldBytes } = (yield* GatewaySettings).admission
      const state = yield* Ref.make<State>({ free: maxRunningSequences, heldBytes: 0, queue: [] })

      const report = Effect.flatMap(Ref.get(state), (now) =>
        Effect.all([
          Metric.update(admissionWaiting, now.queue.length),
          Metric.update(admissionSequences, maxRunningSequences - now.free),
          Metric.update(admissionHeldBytes, now.heldBytes),
        ]),
      )
      yield* report

      const overloaded = new Overloaded({
        message: `the gateway is at capacity (${maxRunningSequences} sequences running, ${maxQueued} calls queued); retry later`,
      })
      const tooManyBytes = new Overloaded({
        message: `the gateway holds as many image bytes as it may (${maxHeldBytes}); retry later`,
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
      const releaseBytes = (bytes: number) =>
        bytes === 0
          ? Effect.void
          : Effect.andThen(
              Ref.update(state, (current) => ({ ...current, heldBytes: current.heldBytes - bytes })),
              report,
            )

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
        work: (lease: Lease) => Effect.Effect<A, E, R>,
        options: AdmitOptions,
      ): Effect.Effect<A, E | Overloaded | DeadlinePassed, R> => {
        // A search larger than the whole capacity still runs, alone.
        const sequences = Math.max(1, Math.min(options.sequences, maxRunningSequences))
        const bytes = options.bytes ?? 0
        return Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            const waiter: Waiter = { sequences, admitted: yield* Deferred.make<void>() }
            const decision = yield* Ref.modify(state, (current) => {
              if (current.heldBytes + bytes > maxHeldBytes) return ["too many bytes", current] as const
              const holding = { ...current, heldBytes: current.heldBytes + bytes }
              if (current.queue.length === 0 && current.free >= sequences) {
                return ["run", { ...holding, free: current.free - sequences }] as const
              }
              if (current.queue.length >= maxQueued) return ["refuse", current] as const
              return ["wait", { ...holding, queue: [...current.queue, waiter] }] as const
            })
            if (decision === "too many bytes") return yield* tooManyBytes
            if (decision === "refuse") return yield* overloaded
            yield* report
            let held = bytes
            const lease: Lease = {
              holdBytes: (more) =>
                Effect.flatMap(
                  Ref.modify(state, (current) =>
                    current.heldBytes + more > maxHeldBytes
                      ? [false, current]
                      : [true, { ...current, heldBytes: current.heldBytes + more }],
                  ),
                  (taken) => {
                    if (!taken) return Effect.fail(tooManyBytes)
                    held += more
                    return report
                  },
                ),
            }
            return yield* Effect.gen(function* () {
              if (decision === "wait") {
                yield* restore(waitFor(waiter, options.deadlineAt)).pipe(
                  Effect.onExit((exit) => (exit._tag === "Success" ? Effect.void : leave(waiter))),
                )
              }
              return yield* restore(work(lease)).pipe(Effect.ensuring(release(sequences)))
            }).pipe(Effect.ensuring(Effect.suspend(() => releaseBytes(held))))
          }),
        )
      }

      return Admission.of({
        admit,
        load: Effect.map(Ref.get(state), (current) => ({
          waiting: current.queue.length,
          heldBytes: current.heldBytes,
        })),
      })
    }),
  )
}
