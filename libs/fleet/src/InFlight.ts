import { Effect } from "effect"

/** This pool's own traffic to one server. */
export interface ServerTraffic {
  /** Sequences (n per request) in flight. */
  readonly sequences: number
  /** Requests in flight. */
  readonly requests: number
  /** Short requests in flight (a verdict, a score: done when their prefill is): what a new short call waits behind. */
  readonly shortRequests: number
  /** Exponentially weighted latency of its successful calls, in ms (0 = none yet). */
  readonly latencyMs: number
}

const idle: ServerTraffic = { sequences: 0, requests: 0, shortRequests: 0, latencyMs: 0 }

const LATENCY_WEIGHT = 0.2

export interface InFlight {
  readonly traffic: Effect.Effect<ReadonlyMap<string, ServerTraffic>>
  /** Requests this pool has in flight on the server. */
  readonly requestsOn: (server: string) => Effect.Effect<number>
  /** Sequences (the n of each request) this pool has in flight on the server. */
  readonly sequencesOn: (server: string) => Effect.Effect<number>
  /** Runs `call` counted as in flight on `server` (released however it ends); `short`: it is a short call. */
  readonly track: <A, E, R>(
    server: string,
    sequences: number,
    call: Effect.Effect<A, E, R>,
    short?: boolean,
  ) => Effect.Effect<A, E, R>
  readonly recordLatency: (server: string, ms: number) => Effect.Effect<void>
  /** `recordLatency` as a plain call, for a try's own bookkeeping (one Effect step for all of it). */
  readonly recordLatencyUnsafe: (server: string, ms: number) => void
}

/**
 * Counts what this pool has in flight per server: what routing knows first-hand, before any /metrics report. Each
 * change makes a new map (readers keep the one they read), updated in place of a Ref: its Effect steps were a share of
 * the gateway's CPU per upstream call (issue #24).
 */
export const makeInFlight = (): Effect.Effect<InFlight> =>
  Effect.sync(() => {
    let all: ReadonlyMap<string, ServerTraffic> = new Map()
    const update = (server: string, f: (traffic: ServerTraffic) => ServerTraffic) => {
      all = new Map(all).set(server, f(all.get(server) ?? idle))
    }
    const add = (server: string, sequences: number, requests: number, short: number) =>
      update(server, (traffic) => ({
        ...traffic,
        sequences: traffic.sequences + sequences,
        requests: traffic.requests + requests,
        shortRequests: traffic.shortRequests + short,
      }))
    const recordLatencyUnsafe = (server: string, ms: number) =>
      update(server, (traffic) => ({
        ...traffic,
        latencyMs: traffic.latencyMs === 0 ? ms : traffic.latencyMs * (1 - LATENCY_WEIGHT) + ms * LATENCY_WEIGHT,
      }))
    return {
      traffic: Effect.sync(() => all),
      requestsOn: (server) => Effect.sync(() => all.get(server)?.requests ?? 0),
      sequencesOn: (server) => Effect.sync(() => all.get(server)?.sequences ?? 0),
      track: (server, sequences, call, short = false) =>
        Effect.acquireUseRelease(
          Effect.sync(() => add(server, sequences, 1, short ? 1 : 0)),
          () => call,
          () => Effect.sync(() => add(server, -sequences, -1, short ? -1 : 0)),
        ),
      recordLatency: (server, ms) => Effect.sync(() => recordLatencyUnsafe(server, ms)),
      recordLatencyUnsafe,
    } satisfies InFlight
  })
