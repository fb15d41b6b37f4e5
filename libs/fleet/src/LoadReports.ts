import { Clock, Duration, Effect, Ref, Schedule, type Scope } from "effect"
import { OpenAiClient } from "./OpenAiClient.ts"
import type { ServerLoad } from "./ServerLoad.ts"

/** A server's own report of its load, and when it was read (Clock millis). */
export interface LoadReport {
  readonly load: ServerLoad
  readonly atMs: number
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
 * Reads each server's /metrics on an interval (until the scope closes): the load of all its clients, other gateway
 * replicas' included, which this pool's own in-flight counts cannot see.
 */
export const makeLoadReports = Effect.fnUntraced(function* (options: {
  readonly servers: ReadonlyArray<string>
  readonly interval: Duration.Duration
}): Effect.fn.Return<LoadReports, never, OpenAiClient | Scope.Scope> {
  const client = yield* OpenAiClient
  const reports = yield* Ref.make<ReadonlyMap<string, LoadReport>>(new Map())
  const scrape = (server: string) =>
    Effect.gen(function* () {
      const load = yield* client.serverLoad(server, METRICS_TIMEOUT)
      if (load === undefined) return
      const atMs = yield* Clock.currentTimeMillis
      yield* Ref.update(reports, (all) => new Map(all).set(server, { load, atMs }))
    })
  yield* Effect.forEach(options.servers, scrape, { concurrency: "unbounded", discard: true }).pipe(
    Effect.repeat(Schedule.spaced(options.interval)),
    Effect.forkScoped,
  )
  return { latest: Ref.get(reports) }
})
