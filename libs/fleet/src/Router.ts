/** What the pool knows of one server, kept per pool in a Ref. */
export interface EndpointState {
  readonly url: string
  /** Sequences (n per request) this pool has in flight on the server. */
  readonly inFlight: number
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
  healthy: true,
  consecutiveFailures: 0,
  downUntil: 0,
  latencyMs: 0,
})

export const isUp = (state: EndpointState, now: number): boolean => state.healthy && now >= state.downUntil

/**
 * Least-loaded choice: the up server with the fewest sequences in flight, ties broken by the lower latency, then by
 * `tieBreak` (a random number in [0, 1), so equal servers share bursts instead of herding onto the first).
 * Servers in `exclude` (already tried by this call) are used only when nothing else is up.
 */
export const pickEndpoint = (
  states: ReadonlyArray<EndpointState>,
  now: number,
  exclude: ReadonlySet<string>,
  tieBreak: number,
): EndpointState | undefined => {
  const up = states.filter((state) => isUp(state, now))
  const fresh = up.filter((state) => !exclude.has(state.url))
  const candidates = fresh.length > 0 ? fresh : up
  if (candidates.length === 0) return undefined
  const best = Math.min(...candidates.map((state) => state.inFlight))
  const least = candidates.filter((state) => state.inFlight === best)
  const fastest = Math.min(...least.map((state) => state.latencyMs))
  const tied = least.filter((state) => state.latencyMs === fastest)
  return tied[Math.floor(tieBreak * tied.length) % tied.length]
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
