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
 * Series updated on every upstream call, made once per label set and found again by nested lookups:
 * `Metric.withAttributes` rebuilt the series key (a sort and join of its labels) on each update, and a key string
 * built per call was still a measurable share of the gateway's CPU per call (issue #24).
 */
type Series<M> = Map<string, Map<string, Map<string, M>>>
const seriesOf = <M>(series: Series<M>, a: string, b: string, c: string, make: () => M): M => {
  let second = series.get(a)
  if (second === undefined) {
    second = new Map()
    series.set(a, second)
  }
  let third = second.get(b)
  if (third === undefined) {
    third = new Map()
    second.set(b, third)
  }
  let known = third.get(c)
  if (known === undefined) {
    known = make()
    third.set(c, known)
  }
  return known
}

const requestSeries: Series<Metric.Counter<number>> = new Map()

/** `upstreamRequests` for one pool, server and outcome. */
export const upstreamRequestsOf = (pool: string, endpoint: string, outcome: string): Metric.Counter<number> =>
  seriesOf(requestSeries, pool, endpoint, outcome, () =>
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

/** Calls a server refused for their key, tried once more because the key's source had another key by then, by pool. */
export const keyRetries = Metric.counter("stagebeam_upstream_key_retries_total", {
  description: "Calls refused 401/403 and tried once more with the rotated key the pool's key file held by then",
})

/** Latency of successful calls to GPU servers. */
export const upstreamDuration = Metric.histogram("stagebeam_upstream_request_duration_seconds", {
  description: "Latency of successful calls to GPU servers",
  boundaries: Metric.exponentialBoundaries({ start: 0.05, factor: 2, count: 12 }),
})

const durationSeries: Series<Metric.Histogram<number>> = new Map()

/** `upstreamDuration` for one pool. */
export const upstreamDurationOf = (pool: string): Metric.Histogram<number> =>
  seriesOf(durationSeries, pool, "", "", () =>
    Metric.histogram("stagebeam_upstream_request_duration_seconds", {
      description: "Latency of successful calls to GPU servers",
      boundaries: Metric.exponentialBoundaries({ start: 0.05, factor: 2, count: 12 }),
      attributes: { pool },
    }),
  )

const callSeries: Series<Metric.Counter<number>> = new Map()

/** `upstreamCalls` for one pool, call kind and outcome. */
export const upstreamCallsOf = (pool: string, kind: string, outcome: string): Metric.Counter<number> =>
  seriesOf(callSeries, pool, kind, outcome, () =>
    Metric.counter("stagebeam_upstream_calls_total", {
      description: "HTTP calls to GPU servers by pool, kind (what the call is for) and outcome",
      attributes: { pool, kind, outcome },
    }),
  )
