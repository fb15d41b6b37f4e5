import { Duration, Effect } from "effect"

/** How many recent observations each label keeps (for its percentiles). */
const KEEP = 64
/** Observations a label needs before its own figures are trusted. */
const ENOUGH = 3
const WEIGHT = 0.2
/** Observations a quantile needs (a label's own, or its family's between them). */
const QUANTILE_ENOUGH = 10

/** A label's family: its first word ("judge" for "judge-summary"), what the call is whatever its stage. */
const familyOf = (label: string): string => {
  const dash = label.indexOf("-")
  return dash === -1 ? label : label.slice(0, dash)
}

const percentile = (sorted: ReadonlyArray<number>, q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0

/** Where `value` goes in ascending `sorted` (the first place not below it). */
const placeOf = (sorted: ReadonlyArray<number>, value: number): number => {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (sorted[middle]! < value) low = middle + 1
    else high = middle
  }
  return low
}

/** The last KEEP values of one label, in order and kept sorted (the oldest taken out, the newest put in its place). */
class Recent {
  private readonly values: Array<number> = []
  private readonly ascending: Array<number> = []
  get size() {
    return this.values.length
  }
  push(value: number) {
    if (this.values.length >= KEEP) {
      const oldest = this.values.shift()!
      this.ascending.splice(placeOf(this.ascending, oldest), 1)
    }
    this.values.push(value)
    this.ascending.splice(placeOf(this.ascending, value), 0, value)
  }
  max() {
    return this.ascending[this.ascending.length - 1] ?? 0
  }
  all(): ReadonlyArray<number> {
    return this.values
  }
  sorted(): ReadonlyArray<number> {
    return this.ascending
  }
}

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
  /**
   * The q-quantile of the label's recent latencies once there are enough (hedging waits this long); for a label not
   * seen enough yet, its family's: all labels with the same first word ("judge-conclusion": "judge-*"), once they have
   * enough between them.
   */
  readonly familyLatencyQuantile: (label: string, q: number) => Effect.Effect<number | undefined>
  /** Median latency of the pool's recent calls, any label (the load-report interval follows it). */
  readonly medianLatency: Effect.Effect<number | undefined>
  /**
   * `record` and `tryTimeout` as plain calls, for a try's own bookkeeping (one Effect step); and the q-quantile of the
   * label's own recent latencies, once there are enough (the hang bound: never its family's).
   */
  readonly recordUnsafe: (server: string, label: string, ms: number, tokensPerSequence: number) => void
  readonly tryTimeoutUnsafe: (server: string, label: string, maxTokens: number) => Duration.Duration
  readonly latencyQuantileUnsafe: (label: string, q: number) => number | undefined
}

/**
 * What a pool has learnt of its calls' durations: the basis of hang detection, hedging and adaptive scraping. Kept in
 * plain mutable maps (one fiber at a time touches them, each step synchronous): copying immutable maps and sorting a
 * label's latencies on every call was a share of the gateway's CPU per upstream call (issue #24).
 */
export const makeCallTimes = (limits: TryTimeouts): Effect.Effect<CallTimes> =>
  Effect.sync(() => {
    const msPerToken = new Map<string, number>()
    const tokens = new Map<string, Recent>()
    const latencies = new Map<string, Recent>()
    const recentOf = (map: Map<string, Recent>, label: string) => {
      let recent = map.get(label)
      if (recent === undefined) {
        recent = new Recent()
        map.set(label, recent)
      }
      return recent
    }
    const floorMs = Duration.toMillis(limits.floor)
    const ceilingMs = Duration.toMillis(limits.ceiling)
    const recordUnsafe = (server: string, label: string, ms: number, tokensPerSequence: number) => {
      const perToken = ms / Math.max(1, tokensPerSequence)
      const before = msPerToken.get(server)
      msPerToken.set(server, before === undefined ? perToken : before * (1 - WEIGHT) + perToken * WEIGHT)
      recentOf(tokens, label).push(tokensPerSequence)
      recentOf(latencies, label).push(ms)
    }
    const tryTimeoutUnsafe = (server: string, label: string, maxTokens: number) => {
      const perToken = msPerToken.get(server) ?? (msPerToken.size > 0 ? Math.max(...msPerToken.values()) : undefined)
      if (perToken === undefined) return limits.ceiling
      const seen = tokens.get(label)
      const expected = seen !== undefined && seen.size >= ENOUGH ? Math.min(maxTokens, 2 * seen.max()) : maxTokens
      return Duration.millis(Math.ceil(Math.min(ceilingMs, Math.max(floorMs, 3 * expected * perToken))))
    }
    const latencyQuantileUnsafe = (label: string, q: number) => {
      const seen = latencies.get(label)
      return seen !== undefined && seen.size >= QUANTILE_ENOUGH ? percentile(seen.sorted(), q) : undefined
    }
    const familyLatencyQuantileUnsafe = (label: string, q: number) => {
      const own = latencyQuantileUnsafe(label, q)
      if (own !== undefined) return own
      const family = familyOf(label)
      const all: Array<number> = []
      for (const [other, recent] of latencies) if (familyOf(other) === family) all.push(...recent.sorted())
      return all.length >= QUANTILE_ENOUGH
        ? percentile(
            all.sort((a, b) => a - b),
            q,
          )
        : undefined
    }
    return {
      record: (server, label, ms, tokensPerSequence) =>
        Effect.sync(() => recordUnsafe(server, label, ms, tokensPerSequence)),
      tryTimeout: (server, label, maxTokens) => Effect.sync(() => tryTimeoutUnsafe(server, label, maxTokens)),
      familyLatencyQuantile: (label, q) => Effect.sync(() => familyLatencyQuantileUnsafe(label, q)),
      medianLatency: Effect.sync(() => {
        const all = [...latencies.values()].flatMap((recent) => recent.all())
        return all.length >= ENOUGH
          ? percentile(
              all.sort((a, b) => a - b),
              0.5,
            )
          : undefined
      }),
      recordUnsafe,
      tryTimeoutUnsafe,
      latencyQuantileUnsafe,
    } satisfies CallTimes
  })
