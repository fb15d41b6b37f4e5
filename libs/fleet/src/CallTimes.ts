import { Duration, Effect, Ref } from "effect"

/** How many recent observations each label keeps (for its percentiles). */
const KEEP = 64
/** Observations a label needs before its own figures are trusted. */
const ENOUGH = 3
const WEIGHT = 0.2

interface State {
  /** Per server: exponentially weighted milliseconds per generated token of one sequence. */
  readonly msPerToken: ReadonlyMap<string, number>
  /** Per label: tokens of one sequence, and the latency of the call, for the last successful calls. */
  readonly tokens: ReadonlyMap<string, ReadonlyArray<number>>
  readonly latencies: ReadonlyMap<string, ReadonlyArray<number>>
}

const percentile = (values: ReadonlyArray<number>, q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
}

const pushed = (map: ReadonlyMap<string, ReadonlyArray<number>>, key: string, value: number) =>
  new Map(map).set(key, [...(map.get(key) ?? []).slice(-(KEEP - 1)), value])

export interface TryTimeouts {
  /** The floor under every derived per-try timeout. */
  readonly floor: Duration.Duration
  /** The longest per-try timeout (the pool's `timeout` setting). */
  readonly ceiling: Duration.Duration
}

export interface CallTimes {
  /** A successful call: its server, what it was for, how long it took, and the tokens of one of its sequences. */
  readonly record: (server: string, label: string, ms: number, tokensPerSequence: number) => Effect.Effect<void>
  /**
   * How long one try may take before it counts as hung: the tokens the call may generate (at most `maxTokens`; twice
   * what calls of this label have written lately, once there are a few) at the server's observed speed, three times
   * over, within [floor, ceiling]. Without observations it is the ceiling.
   */
  readonly tryTimeout: (server: string, label: string, maxTokens: number) => Effect.Effect<Duration.Duration>
  /** The q-quantile of the label's recent latencies, once there are enough (hedging waits this long). */
  readonly latencyQuantile: (label: string, q: number) => Effect.Effect<number | undefined>
  /** Median latency of the pool's recent calls, any label (the load-report interval follows it). */
  readonly medianLatency: Effect.Effect<number | undefined>
}

/** What a pool has learnt of its calls' durations: the basis of hang detection, hedging and adaptive scraping. */
export const makeCallTimes = Effect.fnUntraced(function* (limits: TryTimeouts) {
  const state = yield* Ref.make<State>({ msPerToken: new Map(), tokens: new Map(), latencies: new Map() })
  const floorMs = Duration.toMillis(limits.floor)
  const ceilingMs = Duration.toMillis(limits.ceiling)
  return {
    record: (server, label, ms, tokensPerSequence) =>
      Ref.update(state, (current) => {
        const perToken = ms / Math.max(1, tokensPerSequence)
        const before = current.msPerToken.get(server)
        return {
          msPerToken: new Map(current.msPerToken).set(
            server,
            before === undefined ? perToken : before * (1 - WEIGHT) + perToken * WEIGHT,
          ),
          tokens: pushed(current.tokens, label, tokensPerSequence),
          latencies: pushed(current.latencies, label, ms),
        }
      }),
    tryTimeout: (server, label, maxTokens) =>
      Effect.map(Ref.get(state), (current) => {
        const speeds = [...current.msPerToken.values()]
        const perToken = current.msPerToken.get(server) ?? (speeds.length > 0 ? Math.max(...speeds) : undefined)
        if (perToken === undefined) return limits.ceiling
        const seen = current.tokens.get(label) ?? []
        const expected = seen.length >= ENOUGH ? Math.min(maxTokens, 2 * Math.max(...seen)) : maxTokens
        return Duration.millis(Math.ceil(Math.min(ceilingMs, Math.max(floorMs, 3 * expected * perToken))))
      }),
    latencyQuantile: (label, q) =>
      Effect.map(Ref.get(state), (current) => {
        const seen = current.latencies.get(label) ?? []
        return seen.length >= 10 ? percentile(seen, q) : undefined
      }),
    medianLatency: Effect.map(Ref.get(state), (current) => {
      const all = [...current.latencies.values()].flat()
      return all.length >= ENOUGH ? percentile(all, 0.5) : undefined
    }),
  } satisfies CallTimes
})
