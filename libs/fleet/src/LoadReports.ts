import { Clock, Duration, Effect, Ref, type Scope } from "effect"
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
  /** The latest report of each server that answered at least once. */
  readonly latest: Effect.Effect<ReadonlyMap<string, LoadReport>>
}

const METRICS_TIMEOUT = Duration.seconds(1)

/**
 * With nothing of this pool in flight no pick needs a report now: an idle pool reads them only often enough that its
 * next call finds them fresh, so an idle gateway's polling costs the same whatever its calls' length (issue #24).
 */
const IDLE_INTERVAL_MS = STALE_AFTER_MS / 2

/**
 * Reads each server's /metrics on an interval (until the scope closes): the load of all its clients, other gateway
 * replicas' included, which this pool's own in-flight counts cannot see.
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
  const scrape = (server: string) =>
    Effect.gen(function* () {
      const load = yield* client.serverLoad(server, METRICS_TIMEOUT)
      if (load === undefined) return
      const atMs = yield* Clock.currentTimeMillis
      const ownSequences = yield* options.ownSequencesOn(server)
      yield* Ref.update(reports, (all) => new Map(all).set(server, { load, atMs, ownSequences }))
    })
  const round = Effect.flatMap(options.servers, (servers) =>
    Effect.forEach(servers, scrape, { concurrency: "unbounded", discard: true }).pipe(
      Effect.andThen(Effect.forEach(servers, options.ownSequencesOn)),
      Effect.map((own) => own.some((sequences) => sequences > 0)),
    ),
  )
  yield* round.pipe(
    Effect.flatMap((busy) =>
      Effect.flatMap(options.interval, (interval) =>
        Effect.sleep(busy ? interval : Duration.max(interval, Duration.millis(IDLE_INTERVAL_MS))),
      ),
    ),
    Effect.forever,
    Effect.forkScoped,
  )
  return { latest: Ref.get(reports) }
})
