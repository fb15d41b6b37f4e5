import { Clock, Deferred, Duration, Effect, Latch, Ref, type Scope } from "effect"
import { OpenAiClient } from "./OpenAiClient.ts"
import type { ServerLoad } from "./ServerLoad.ts"

/**
 * A server's own report of its load, when it was read (Clock millis), and this pool's sequences on it then. Sequences,
 * not requests: vLLM splits a request with n > 1 into n child requests (V0 sequence.py ParallelSampleSequenceGroup,
 * V1 parallel_sampling.py), and its num_requests_running / _waiting count each child, as SGLang counts each sample.
 */
export interface LoadReport {
  readonly load: ServerLoad
  readonly atMs: number
  readonly ownSequences: number
}

/** Load reports older than this are ignored: stale data herds bursts onto one server (llm-d uses 2 s too). */
export const STALE_AFTER_MS = 2000

export const isFresh = (report: LoadReport | undefined, now: number): report is LoadReport =>
  report !== undefined && now - report.atMs <= STALE_AFTER_MS

export interface LoadReports {
  /** The latest report of each server that answered at least once (reads nothing). */
  readonly latest: Effect.Effect<ReadonlyMap<string, LoadReport>>
  /**
   * The reports a pick weighs: the same, except that a pick that ends an idle spell (no reads since, reports stale)
   * first waits, at most WAKE_WAIT, for the round of reads it starts.
   */
  readonly forPick: Effect.Effect<ReadonlyMap<string, LoadReport>>
  /** `latest` as a plain read. */
  readonly latestUnsafe: () => ReadonlyMap<string, LoadReport>
  /**
   * `forPick` as a plain read at Clock millis `now`, for a pick's view of the pool (one Effect step for all of it,
   * issue #24): undefined where the pick must wait for a round of reads (then `forPick` waits for it).
   */
  readonly forPickUnsafe: (now: number) => ReadonlyMap<string, LoadReport> | undefined
}

const METRICS_TIMEOUT = Duration.seconds(1)

/**
 * How long a pick after an idle spell waits for fresh reports: a /metrics read takes a few ms; a server slower than
 * this is weighed by this pool's own counts, as one without /metrics is.
 */
const WAKE_WAIT = Duration.millis(100)

/**
 * Reads each server's /metrics while the pool is picking servers (until the scope closes): the load of all its
 * clients, other gateway replicas' included, which this pool's own in-flight counts cannot see. Reports are read by
 * need (issue #24): a round at start, then rounds on the interval while this pool has calls in flight or picks
 * servers; an idle pool reads nothing, and its next pick wakes the reads and waits briefly for them.
 */
export const makeLoadReports = Effect.fnUntraced(function* (options: {
  /** The pool's current servers (they may change). */
  readonly servers: Effect.Effect<ReadonlyArray<string>>
  /** This pool's sequences in flight on a server (the n of each request), read with each report. */
  readonly ownSequencesOn: (server: string) => Effect.Effect<number>
  /** The pause before the next round of reads (it may change as calls get shorter or longer). */
  readonly interval: Effect.Effect<Duration.Duration>
}): Effect.fn.Return<LoadReports, never, OpenAiClient | Scope.Scope> {
  const client = yield* OpenAiClient
  const reports = yield* Ref.make<ReadonlyMap<string, LoadReport>>(new Map())
  // Opened by every pick (cheap when already open): the idle loop waits on it.
  const picked = yield* Latch.make(false)
  let asleep = false
  let lastRoundMs = 0
  // The round that a pick ending an idle spell started, which picks wait for (briefly); undefined otherwise.
  let waking: Deferred.Deferred<void> | undefined

  // Generators made once, not per round: one made per call keeps what the call saw until a mark-compact (issue #24).
  const scrape = Effect.fnUntraced(function* (server: string) {
    const load = yield* client.serverLoad(server, METRICS_TIMEOUT)
    if (load === undefined) return
    const atMs = yield* Clock.currentTimeMillis
    const ownSequences = yield* options.ownSequencesOn(server)
    yield* Ref.update(reports, (all) => new Map(all).set(server, { load, atMs, ownSequences }))
  })
  const round = Effect.flatMap(options.servers, (servers) =>
    Effect.forEach(servers, scrape, { concurrency: "unbounded", discard: true }).pipe(
      Effect.andThen(
        Effect.map(Clock.currentTimeMillis, (now) => {
          lastRoundMs = now
          if (waking !== undefined) Deferred.doneUnsafe(waking, Effect.void)
          waking = undefined
        }),
      ),
      Effect.andThen(Effect.forEach(servers, options.ownSequencesOn)),
      Effect.map((own) => own.some((sequences) => sequences > 0)),
    ),
  )
  // Calls in flight: on the interval. None: until the next pick (one left open from the busy spell costs one round).
  const idle = Effect.gen(function* () {
    asleep = true
    yield* picked.await
    asleep = false
    yield* picked.close
  })
  yield* round.pipe(
    Effect.flatMap((busy) => (busy ? Effect.flatMap(options.interval, Effect.sleep) : idle)),
    Effect.forever,
    Effect.forkScoped,
  )

  /** Wakes the reads for a pick; true where the pick must wait for the round this (or an earlier pick) started. */
  const wake = (now: number) => {
    if (asleep && waking === undefined && now - lastRoundMs > STALE_AFTER_MS) {
      waking = Deferred.makeUnsafe<void>()
    }
    picked.openUnsafe()
    return waking !== undefined
  }
  const forPick = Effect.gen(function* () {
    if (wake(yield* Clock.currentTimeMillis)) yield* Deferred.await(waking!).pipe(Effect.timeoutOption(WAKE_WAIT))
    return yield* Ref.get(reports)
  })
  return {
    latest: Ref.get(reports),
    forPick,
    latestUnsafe: () => Ref.getUnsafe(reports),
    forPickUnsafe: (now) => (wake(now) ? undefined : Ref.getUnsafe(reports)),
  }
})
