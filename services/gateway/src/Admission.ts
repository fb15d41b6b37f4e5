import { type Discovery, Fleet } from "@stagebeam/fleet"
import { Clock, Context, Deferred, Duration, Effect, Layer, Metric, Ref, Schedule } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { discoveryOf, GENERATOR_POOL, maxSamplesPerRequestOf } from "./config/Resolve.ts"
import { DeadlinePassed, Overloaded } from "./GatewayErrors.ts"
import {
  admissionCapacity,
  admissionHeldBytes,
  admissionRefusedLate,
  admissionSequences,
  admissionWaiting,
} from "./GatewayMetrics.ts"
import { MetricsRefresh } from "./MetricsRefresh.ts"

export interface AdmitOptions {
  /** GPU sequences the search occupies at once. */
  readonly sequences: number
  /**
   * Image bytes the call holds while it waits and runs (0 for a text-only question): what its image costs decoded,
   * until the call gives some back (Lease.releaseBytes).
   */
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
  /** Gives back `bytes` of what the call holds (an image decoded, now held at its smaller prepared size). */
  readonly releaseBytes: (bytes: number) => Effect.Effect<void>
  /** Runs `finalizer` when the call ends, however it ends (an image served by reference is withdrawn). */
  readonly onEnd: (finalizer: Effect.Effect<void>) => Effect.Effect<void>
}

export interface AdmissionOptions {
  /** GPU sequences the fleet runs at once now (it follows the fleet's live size). */
  readonly capacity: Effect.Effect<number>
  readonly maxQueued: number
  readonly maxHeldBytes: number
}

interface Waiter {
  readonly sequences: number
  readonly admitted: Deferred.Deferred<void>
}

interface State {
  /** Sequences held by running searches. */
  readonly held: number
  /** Image bytes held by calls waiting or running. */
  readonly heldBytes: number
  /** Searches waiting, first come first. */
  readonly queue: ReadonlyArray<Waiter>
  /** Exponentially weighted time a search holds its sequences, in ms (0 until one has finished). */
  readonly serviceMs: number
}

/** Admits waiters from the head of the queue while they fit: none is overtaken by a later, smaller one. */
const admitFromHead = (state: State, capacity: number): readonly [ReadonlyArray<Waiter>, State] => {
  const admitted: Array<Waiter> = []
  let { held } = state
  let index = 0
  while (index < state.queue.length && held + Math.min(state.queue[index]!.sequences, capacity) <= capacity) {
    held += Math.min(state.queue[index]!.sequences, capacity)
    admitted.push(state.queue[index]!)
    index++
  }
  return [admitted, { ...state, held, queue: state.queue.slice(index) }]
}

/** What uninterruptibleMask gives: runs an effect interruptible again. */
type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

type Decision =
  | { readonly _tag: "run" | "wait" | "too many bytes" | "queue full" }
  | { readonly _tag: "too late"; readonly expected: number; readonly left: number }

const SERVICE_WEIGHT = 0.2
/**
 * A queued call must be expected to finish this many times over inside its deadline: the estimate is a mean, and a
 * call admitted on the edge comes back cut short, its GPU time spent for an answer that does not count (bench/scaling.ts:
 * at 2× overload without headroom a quarter of the admitted calls were cut short).
 */
const LATE_HEADROOM = 1.25

/**
 * How often waiting searches are looked at again, so capacity that grows (a server joined) is used; only while some
 * wait (an idle gateway wakes for nothing, issue #24).
 */
const SETTLE_INTERVAL = Duration.millis(500)

/**
 * Admission control, in sequences: a search holds as many as it samples candidates at once (N, GREEDY 1), since
 * that is what it occupies of the GPU servers' `max_num_seqs` slots, against a capacity that follows the fleet
 * (its up servers × their slots, unless the settings fix it). Searches are admitted first come, first served:
 * one that does not fit waits, and every later one waits behind it, so a large N is never overtaken forever.
 * A call that could not be answered in time — its expected wait (the sequences ahead of it, turning over at the
 * measured pace of finished searches) plus its expected run is longer than its deadline — is refused at once with
 * RESOURCE_EXHAUSTED instead of waiting to be cut short; so is one that finds `maxQueued` searches waiting. A
 * waiting call gives up when its deadline passes. Memory is the other resource: the image bytes of every call
 * waiting or running count against `maxHeldBytes` — an image by what it costs decoded until it has been prepared,
 * then by what the call keeps of it — and a call that would pass it is refused at once; an image fetched from a URL
 * counts from when it has arrived (fetches themselves are few at a time).
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
  static readonly make = Effect.fnUntraced(function* (options: AdmissionOptions) {
    const { maxQueued, maxHeldBytes } = options
    const state = yield* Ref.make<State>({ held: 0, heldBytes: 0, queue: [], serviceMs: 0 })

    const report = Effect.gen(function* () {
      const now = yield* Ref.get(state)
      yield* Metric.update(admissionWaiting, now.queue.length)
      yield* Metric.update(admissionSequences, now.held)
      yield* Metric.update(admissionHeldBytes, now.heldBytes)
      yield* Metric.update(admissionCapacity, yield* options.capacity)
    })
    yield* report
    // The capacity follows the fleet and the peers while nothing is admitted: read it again with each /metrics read.
    yield* MetricsRefresh.registerIfServed(report)

    const overloaded = (capacity: number) =>
      new Overloaded({
        message: `the gateway is at capacity (${capacity} sequences running, ${maxQueued} calls queued); retry later`,
      })
    const tooManyBytes = new Overloaded({
      message: `the gateway holds as many image bytes as it may (${maxHeldBytes}); retry later`,
    })

    /** Applies `change`, then admits whoever now fits at the head of the queue. */
    const settle = Effect.fnUntraced(function* (change: (state: State) => State) {
      const capacity = yield* options.capacity
      const admitted = yield* Ref.modify(state, (current) => admitFromHead(change(current), capacity))
      yield* Effect.forEach(admitted, (waiter) => Deferred.succeed(waiter.admitted, undefined), { discard: true })
      yield* report
    })
    // Looking again only matters while someone waits: one loop, started by the first waiter, ends with the queue.
    const scope = yield* Effect.scope
    let settling = false
    const settleWhileWaiting: Effect.Effect<void> = Effect.sleep(SETTLE_INTERVAL).pipe(
      Effect.andThen(settle((current) => current)),
      Effect.andThen(
        Effect.suspend(() => {
          settling = Ref.getUnsafe(state).queue.length > 0
          return settling ? settleWhileWaiting : Effect.void
        }),
      ),
    )
    const settleWhileQueued = Effect.suspend(() => {
      if (settling || Ref.getUnsafe(state).queue.length === 0) return Effect.void
      settling = true
      return Effect.asVoid(Effect.forkIn(settleWhileWaiting, scope))
    })

    const release = (sequences: number, ranMs: number) =>
      settle((current) => ({
        ...current,
        held: current.held - sequences,
        serviceMs: current.serviceMs === 0 ? ranMs : current.serviceMs * (1 - SERVICE_WEIGHT) + ranMs * SERVICE_WEIGHT,
      }))
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
        (wasAdmitted) =>
          wasAdmitted
            ? settle((current) => ({ ...current, held: current.held - waiter.sequences }))
            : settle((current) => current),
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

    /**
     * How long a call that joins the queue now would wait, then run: the sequences ahead of it (its own included)
     * beyond what is free, as the capacity turns over once per measured run. Unknown (0) until a search finished.
     */
    const expectedMs = (current: State, capacity: number, sequences: number) => {
      if (current.serviceMs === 0) return 0
      const ahead = current.queue.reduce((sum, waiter) => sum + Math.min(waiter.sequences, capacity), sequences)
      const beyondFree = Math.max(0, ahead - (capacity - current.held))
      return (beyondFree / capacity) * current.serviceMs + current.serviceMs
    }

    /**
     * Waits for admission if the call was queued, then runs `work` and gives its sequences back. Made once, as every
     * generator on a call's path: one made per call keeps the call's objects until a mark-compact (HttpGateway's
     * recordCall).
     */
    const waitAndRun = Effect.fnUntraced(function* (
      restore: Restore,
      decision: Decision,
      waiter: Waiter,
      deadlineAt: number,
      work: (lease: Lease) => Effect.Effect<unknown, unknown, unknown>,
      lease: Lease,
    ) {
      if (decision._tag === "wait") {
        yield* restore(waitFor(waiter, deadlineAt)).pipe(
          Effect.onExit((exit) => (exit._tag === "Success" ? Effect.void : leave(waiter))),
        )
      }
      const started = yield* Clock.currentTimeMillis
      return yield* restore(work(lease)).pipe(
        Effect.ensuring(Effect.flatMap(Clock.currentTimeMillis, (ended) => release(waiter.sequences, ended - started))),
      )
    })

    /** One admission under `restore` (admit's uninterruptible mask); admit gives it its types back. */
    const admitMasked = Effect.fnUntraced(function* (
      restore: Restore,
      work: (lease: Lease) => Effect.Effect<unknown, unknown, unknown>,
      admitOptions: AdmitOptions,
    ) {
      const bytes = admitOptions.bytes ?? 0
      const capacity = yield* options.capacity
      const now = yield* Clock.currentTimeMillis
      // A search larger than the whole capacity still runs, alone.
      const sequences = Math.max(1, Math.min(admitOptions.sequences, capacity))
      const waiter: Waiter = { sequences, admitted: yield* Deferred.make<void>() }
      const decision = yield* Ref.modify(state, (current): readonly [Decision, State] => {
        if (current.heldBytes + bytes > maxHeldBytes) return [{ _tag: "too many bytes" }, current]
        const holding = { ...current, heldBytes: current.heldBytes + bytes }
        if (current.queue.length === 0 && current.held + sequences <= capacity) {
          return [{ _tag: "run" }, { ...holding, held: current.held + sequences }]
        }
        if (current.queue.length >= maxQueued) return [{ _tag: "queue full" }, current]
        const expected = expectedMs(current, capacity, sequences)
        if (now + expected * LATE_HEADROOM > admitOptions.deadlineAt) {
          return [{ _tag: "too late", expected, left: admitOptions.deadlineAt - now }, current]
        }
        return [{ _tag: "wait" }, { ...holding, queue: [...current.queue, waiter] }]
      })
      switch (decision._tag) {
        case "too many bytes":
          return yield* tooManyBytes
        case "queue full":
          return yield* overloaded(capacity)
        case "too late":
          yield* Metric.update(Metric.withAttributes(admissionRefusedLate, {}), 1)
          return yield* new Overloaded({
            message:
              `the gateway cannot answer within the deadline: about ${(decision.expected / 1000).toFixed(1)} s ` +
              `to wait and run, ${(Math.max(0, decision.left) / 1000).toFixed(1)} s left; retry later or elsewhere`,
          })
      }
      if (decision._tag === "wait") yield* settleWhileQueued
      yield* report
      let held = bytes
      const finalizers: Array<Effect.Effect<void>> = []
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
        releaseBytes: (less) =>
          Effect.suspend(() => {
            const given = Math.min(Math.max(0, less), held)
            held -= given
            return releaseBytes(given)
          }),
        onEnd: (finalizer) => Effect.sync(() => void finalizers.push(finalizer)),
      }
      return yield* waitAndRun(restore, decision, waiter, admitOptions.deadlineAt, work, lease).pipe(
        Effect.ensuring(
          Effect.suspend(() => Effect.andThen(Effect.all(finalizers, { discard: true }), releaseBytes(held))),
        ),
      )
    })

    const admit = <A, E, R>(
      work: (lease: Lease) => Effect.Effect<A, E, R>,
      admitOptions: AdmitOptions,
    ): Effect.Effect<A, E | Overloaded | DeadlinePassed, R> =>
      Effect.uninterruptibleMask((restore) => admitMasked(restore, work, admitOptions)) as Effect.Effect<
        A,
        E | Overloaded | DeadlinePassed,
        R
      >

    return Admission.of({
      admit,
      load: Effect.map(Ref.get(state), (current) => ({ waiting: current.queue.length, heldBytes: current.heldBytes })),
    })
  })

  /** Admission over the capacity and limits given; reads no settings. */
  static readonly layerWith = (options: AdmissionOptions) => Layer.effect(Admission, Admission.make(options))

  /**
   * Admission by the settings: a fixed capacity when they give one, else the generator pool's up servers × their
   * slots (upstream.maxSamplesPerRequest, which matches vLLM's --max-num-seqs), divided among the gateway replicas
   * that `admission.peers` finds (each admits its share, so together they admit what the fleet runs).
   */
  static readonly layer = Layer.unwrap(
    Effect.gen(function* () {
      const settings = yield* GatewaySettings
      const fixed = settings.admission.maxRunningSequences
      const slots = maxSamplesPerRequestOf(settings, GENERATOR_POOL)
      const fleet = yield* Fleet
      const generator = yield* fleet.pool(GENERATOR_POOL)
      const peers = yield* peerCount(discoveryOf(settings.admission.peers))
      const capacity =
        fixed === "auto"
          ? Effect.gen(function* () {
              const fleetCapacity = Math.max(1, yield* generator.upCount) * slots
              return Math.max(1, Math.ceil(fleetCapacity / (yield* peers)))
            })
          : Effect.succeed(fixed)
      return Admission.layerWith({
        capacity,
        maxQueued: settings.admission.maxQueued,
        maxHeldBytes: settings.admission.maxHeldBytes,
      })
    }),
  )
}

/**
 * How many gateway replicas share the fleet, looked up again on the discovery's interval (1 without a discovery; a
 * failed look keeps the last count). Lives as long as the layer's scope.
 */
const peerCount = (discovery: Discovery | undefined) =>
  Effect.gen(function* () {
    const count = yield* Ref.make(1)
    if (discovery === undefined) return Ref.get(count)
    const look = discovery.find.pipe(
      Effect.flatMap((found) =>
        Effect.gen(function* () {
          const next = Math.max(1, found.length)
          const before = yield* Ref.getAndSet(count, next)
          if (before !== next) {
            yield* Effect.logInfo("admission peers changed").pipe(
              Effect.annotateLogs({ source: discovery.describe, peers: next, share: `1/${next}` }),
            )
          }
        }),
      ),
      Effect.catchTag("DiscoveryFailed", (error) =>
        Effect.logWarning("admission peers not found; keeping the last count").pipe(
          Effect.annotateLogs({ source: discovery.describe, error: error.message }),
        ),
      ),
    )
    yield* look
    yield* look.pipe(Effect.repeat(Schedule.spaced(discovery.interval)), Effect.forkScoped)
    return Ref.get(count)
  })
