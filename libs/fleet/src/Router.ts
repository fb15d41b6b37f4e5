import { isFresh, type LoadReport } from "./LoadReports.ts"
import { initialHealth, isUp, type ServerHealth } from "./Membership.ts"
import type { ServerLoad } from "./ServerLoad.ts"

/** Everything routing weighs about one server: its health, this pool's traffic to it, and its own load report. */
export interface EndpointState extends ServerHealth {
  readonly url: string
  /** Sequences (n per request) this pool has in flight on the server. */
  readonly inFlight: number
  /** Requests this pool has in flight on the server. */
  readonly inFlightRequests: number
  /** Exponentially weighted latency of its successful calls, in ms (0 = none yet). */
  readonly latencyMs: number
  /** The server's own last report of its load (/metrics), and when it was read (Clock millis). */
  readonly reported: ServerLoad | undefined
  readonly reportedAtMs: number
}

export const initialState = (url: string): EndpointState => ({
  url,
  ...initialHealth,
  inFlight: 0,
  inFlightRequests: 0,
  latencyMs: 0,
  reported: undefined,
  reportedAtMs: 0,
})

const reportOf = (state: EndpointState): LoadReport | undefined =>
  state.reported === undefined ? undefined : { load: state.reported, atMs: state.reportedAtMs }

const freshLoad = (state: EndpointState, now: number): ServerLoad | undefined => {
  const report = reportOf(state)
  return isFresh(report, now) ? report.load : undefined
}

/**
 * The load a new call would join: this pool's own sequences in flight, plus what the server reports beyond them
 * (other gateway replicas' running requests), with its waiting queue counted double as vLLM has no admission
 * control of its own.
 */
export const loadScore = (state: EndpointState, now: number): number => {
  const report = freshLoad(state, now)
  if (report === undefined) return state.inFlight
  const foreignRunning = Math.max(0, report.running - state.inFlightRequests)
  return state.inFlight + foreignRunning + 2 * report.waiting
}

/** A server whose fresh report shows a queue or a nearly full KV cache (llm-d's saturation thresholds). */
export const isSaturated = (state: EndpointState, now: number): boolean => {
  const report = freshLoad(state, now)
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
    key: [loadScore(state, now), freshLoad(state, now)?.kvUsage ?? 0, state.latencyMs],
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
