import type { ServerLoad } from "./ServerLoad.ts"

/** What the pool knows of one server, kept per pool in a Ref. */
export interface EndpointState {
  readonly url: string
  /** Sequences (n per request) this pool has in flight on the server. */
  readonly inFlight: number
  /** Requests this pool has in flight on the server. */
  readonly inFlightRequests: number
  /** The server's own last report of its load (/metrics), and when it was read (Clock millis). */
  readonly reported: ServerLoad | undefined
  readonly reportedAtMs: number
  /** Last answer of GET /health (true until the first probe says otherwise). */
  readonly healthy: boolean
  readonly consecutiveFailures: number
  /** Clock millis until which the server is skipped after repeated failures (passive health). */
  readonly downUntil: number
  /** Exponentially weighted latency of its successful calls, in ms (0 = none yet). */
  readonly latencyMs: number
}

export const initialState = (url: string): EndpointState => ({
  url,
  inFlight: 0,
  inFlightRequests: 0,
  reported: undefined,
  reportedAtMs: 0,
  healthy: true,
  consecutiveFailures: 0,
  downUntil: 0,
  latencyMs: 0,
})

export const isUp = (state: EndpointState, now: number): boolean => state.healthy && now >= state.downUntil

/** Load reports older than this are ignored: stale data herds bursts onto one server (llm-d uses 2 s too). */
export const STALE_AFTER_MS = 2000

const freshReport = (state: EndpointState, now: number): ServerLoad | undefined =>
  state.reported !== undefined && now - state.reportedAtMs <= STALE_AFTER_MS ? state.reported : undefined

/**
 * The load a new call would join: this pool's own sequences in flight, plus what the server reports beyond them
 * (other gateway replicas' running requests), with its waiting queue counted double as vLLM has no admission
 * control of its own.
 */
export const loadScore = (state: EndpointState, now: number): number => {
  const report = freshReport(state, now)
  if (report === undefined) return state.inFlight
  const foreignRunning = Math.max(0, report.running - state.inFlightRequests)
  return state.inFlight + foreignRunning + 2 * report.waiting
}

/** A server whose fresh report shows a queue or a nearly full KV cache (llm-d's saturation thresholds). */
export const isSaturated = (state: EndpointState, now: number): boolean => {
  const report = freshReport(state, now)
  return report !== undefined && (report.waiting > 5 || report.kvUsage > 0.8)
}

/**
 * Load-aware choice: among the up servers, prefer those not yet tried by this call and not saturated; then the
 * lowest load score, ties broken by KV-cache usage, then latency, then `tieBreak` (a random number in [0, 1), so
 * equal servers share bursts instead of herding onto the first).
 */
export const pickEndpoint = (
  states: ReadonlyArray<EndpointState>,
  now: number,
  exclude: ReadonlySet<string>,
  tieBreak: number,
): EndpointState | undefined => {
  const up = states.filter((state) => isUp(state, now))
  const preferred = [
    up.filter((state) => !exclude.has(state.url) && !isSaturated(state, now)),
    up.filter((state) => !exclude.has(state.url)),
    up,
  ].find((group) => group.length > 0)
  if (preferred === undefined) return undefined
  const keyed = preferred.map((state) => ({
    state,
    key: [loadScore(state, now), freshReport(state, now)?.kvUsage ?? 0, state.latencyMs],
  }))
  const best = keyed.reduce((min, entry) => (compareKeys(entry.key, min.key) < 0 ? entry : min)).key
  const tied = keyed.filter((entry) => compareKeys(entry.key, best) === 0)
  return tied[Math.floor(tieBreak * tied.length) % tied.length]?.state
}

const compareKeys = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  for (let i = 0; i < a.length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0)
    if (diff !== 0) return diff
  }
  return 0
}

const LATENCY_WEIGHT = 0.2

export const recordSuccess = (state: EndpointState, latencyMs: number): EndpointState => ({
  ...state,
  consecutiveFailures: 0,
  downUntil: 0,
  latencyMs: state.latencyMs === 0 ? latencyMs : state.latencyMs * (1 - LATENCY_WEIGHT) + latencyMs * LATENCY_WEIGHT,
})

export const recordFailure = (
  state: EndpointState,
  now: number,
  threshold: number,
  cooldownMs: number,
): EndpointState => {
  const consecutiveFailures = state.consecutiveFailures + 1
  return {
    ...state,
    consecutiveFailures,
    downUntil: consecutiveFailures >= threshold ? now + cooldownMs : state.downUntil,
  }
}
