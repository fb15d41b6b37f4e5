import { Metric } from "effect"

/** Calls to GPU servers, by pool, server and outcome ("ok", or the failure kind: connect, timeout, status, malformed). */
export const upstreamRequests = Metric.counter("stagebeam_upstream_requests_total", {
  description: "HTTP calls to GPU servers by pool, server and outcome",
})

/** Calls to GPU servers by pool, kind (gen, judge, score, rate, probe) and outcome, without the server: bounded. */
export const upstreamCalls = Metric.counter("stagebeam_upstream_calls_total", {
  description: "HTTP calls to GPU servers by pool, kind (what the call is for) and outcome",
})

/** A call's kind from its label ("gen-summary" → "gen", "judge-reasoning" → "judge"): a bounded label value. */
export const callKind = (label: string): string => label.split("-")[0] ?? label

/**
 * Series updated on every upstream call, made once per label set: `Metric.withAttributes` rebuilt the series key
 * (a sort and join of its labels) on each update, a measurable share of the gateway's CPU per call (issue #24).
 */
const series = new Map<string, Metric.Counter<number> | Metric.Histogram<number>>()
const once = <M extends Metric.Counter<number> | Metric.Histogram<number>>(key: string, make: () => M): M => {
  let known = series.get(key) as M | undefined
  if (known === undefined) {
    known = make()
    series.set(key, known)
  }
  return known
}

/** `upstreamRequests` for one pool, server and outcome. */
export const upstreamRequestsOf = (pool: string, endpoint: string, outcome: string): Metric.Counter<number> =>
  once(`requests\u0000${pool}\u0000${endpoint}\u0000${outcome}`, () =>
    Metric.counter("stagebeam_upstream_requests_total", {
      description: "HTTP calls to GPU servers by pool, server and outcome",
      attributes: { pool, endpoint, outcome },
    }),
  )

/** Servers taken out of rotation after repeated failures, and servers back after a success, by pool and server. */
export const serverEjections = Metric.counter("stagebeam_server_ejections_total", {
  description: "Servers taken out of rotation after consecutive failures",
})
export const serverRecoveries = Metric.counter("stagebeam_server_recoveries_total", {
  description: "Ejected or unhealthy servers back in rotation",
})

/** Servers joining and leaving a pool (discovery), and leavers forgotten once drained ("gone"). */
export const membershipChanges = Metric.counter("stagebeam_server_membership_changes_total", {
  description: "Servers joining (join), leaving (leave) and drained away (gone), by pool and server",
})

/** Retries the retry budget refused, and hedged second tries sent, by pool. */
export const retriesRefused = Metric.counter("stagebeam_upstream_retries_refused_total", {
  description: "Retries refused because the pool's retry budget was spent",
})
export const hedges = Metric.counter("stagebeam_upstream_hedges_total", {
  description: "Second tries sent for a slow call (hedging)",
})

/** Latency of successful calls to GPU servers. */
export const upstreamDuration = Metric.histogram("stagebeam_upstream_request_duration_seconds", {
  description: "Latency of successful calls to GPU servers",
  boundaries: Metric.exponentialBoundaries({ start: 0.05, factor: 2, count: 12 }),
})

/** `upstreamDuration` for one pool. */
export const upstreamDurationOf = (pool: string): Metric.Histogram<number> =>
  once(`duration\u0000${pool}`, () =>
    Metric.histogram("stagebeam_upstream_request_duration_seconds", {
      description: "Latency of successful calls to GPU servers",
      boundaries: Metric.exponentialBoundaries({ start: 0.05, factor: 2, count: 12 }),
      attributes: { pool },
    }),
  )

/** `upstreamCalls` for one pool, call kind and outcome. */
export const upstreamCallsOf = (pool: string, kind: string, outcome: string): Metric.Counter<number> =>
  once(`calls\u0000${pool}\u0000${kind}\u0000${outcome}`, () =>
    Metric.counter("stagebeam_upstream_calls_total", {
      description: "HTTP calls to GPU servers by pool, kind (what the call is for) and outcome",
      attributes: { pool, kind, outcome },
    }),
  )
