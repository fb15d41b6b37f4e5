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

const LATENCY_WEIGHT = 0.2

export interface InFlight {
  readonly traffic: Effect.Effect<ReadonlyMap<string, ServerTraffic>>
  /**
   * `traffic` as a plain read of the live counts, for a pick's view of the pool (one Effect step for all of it): the
   * map and its entries change as calls start and end, so a reader copies what it needs at once.
   */
  readonly trafficUnsafe: () => ReadonlyMap<string, ServerTraffic>
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
  /**
   * `track`'s two halves as plain calls, for a try that counts its call in the step that picks its server and
   * releases it in the call's own exit handler.
   */
  readonly addUnsafe: (server: string, sequences: number, short: boolean) => void
  readonly releaseUnsafe: (server: string, sequences: number, short: boolean) => void
  readonly recordLatency: (server: string, ms: number) => Effect.Effect<void>
  /** `recordLatency` as a plain call, for a try's own bookkeeping (one Effect step for all of it). */
  readonly recordLatencyUnsafe: (server: string, ms: number) => void
}

interface Counts {
  sequences: number
  requests: number
  shortRequests: number
  latencyMs: number
}

/**
 * Counts what this pool has in flight per server: what routing knows first-hand, before any /metrics report. Kept
 * as one mutable entry per server (readers copy what they read): a new map per change, three per call, and the
 * Effect steps of a Ref were a share of the gateway's CPU per upstream call (issue #24).
 */
export const makeInFlight = (): Effect.Effect<InFlight> =>
  Effect.sync(() => {
    const all = new Map<string, Counts>()
    const countsOf = (server: string) => {
      let counts = all.get(server)
      if (counts === undefined) {
        counts = { sequences: 0, requests: 0, shortRequests: 0, latencyMs: 0 }
        all.set(server, counts)
      }
      return counts
    }
    const add = (server: string, sequences: number, requests: number, short: number) => {
      const counts = countsOf(server)
      counts.sequences += sequences
      counts.requests += requests
      counts.shortRequests += short
    }
    const addUnsafe = (server: string, sequences: number, short: boolean) => add(server, sequences, 1, short ? 1 : 0)
    const releaseUnsafe = (server: string, sequences: number, short: boolean) =>
      add(server, -sequences, -1, short ? -1 : 0)
    const recordLatencyUnsafe = (server: string, ms: number) => {
      const counts = countsOf(server)
      counts.latencyMs = counts.latencyMs === 0 ? ms : counts.latencyMs * (1 - LATENCY_WEIGHT) + ms * LATENCY_WEIGHT
    }
    return {
      traffic: Effect.sync(() => new Map([...all].map(([server, counts]) => [server, { ...counts }]))),
      trafficUnsafe: () => all,
      requestsOn: (server) => Effect.sync(() => all.get(server)?.requests ?? 0),
      sequencesOn: (server) => Effect.sync(() => all.get(server)?.sequences ?? 0),
      track: (server, sequences, call, short = false) =>
        Effect.acquireUseRelease(
          Effect.sync(() => addUnsafe(server, sequences, short)),
          () => call,
          () => Effect.sync(() => releaseUnsafe(server, sequences, short)),
        ),
      addUnsafe,
      releaseUnsafe,
      recordLatency: (server, ms) => Effect.sync(() => recordLatencyUnsafe(server, ms)),
      recordLatencyUnsafe,
    } satisfies InFlight
  })
