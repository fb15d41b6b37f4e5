import { Duration, Effect } from "effect"
import type { CallTimes } from "./CallTimes.ts"

/** A try this many times slower than the slowest recent call of its kind is taken for hung. */
const HUNG_FACTOR = 3
/** "The slowest recent call": the label's 99th percentile (of its last 64). */
const SLOWEST = 0.99

/**
 * One try's timeout: CallTimes' (the tokens it may write at the server's speed), capped by what calls of the same
 * label have actually taken lately. The speed is per token, and a short call's fixed costs (queueing, the prompt)
 * inflate it: the derived timeout could reach the pool's ceiling (120 s), and a stopped server (SIGSTOP: connections
 * open, nothing answered) held its calls until their deadline. Capped, a try that takes HUNG_FACTOR times the
 * label's slowest recent call (never less than the floor) counts as hung, and the call fails over.
 */
export const boundedTryTimeoutUnsafe = (
  times: CallTimes,
  server: string,
  label: string,
  maxTokens: number,
  floor: Duration.Duration,
): Duration.Duration => {
  const derived = times.tryTimeoutUnsafe(server, label, maxTokens)
  const slowest = times.latencyQuantileUnsafe(label, SLOWEST)
  if (slowest === undefined) return derived
  return Duration.min(derived, Duration.max(floor, Duration.millis(Math.ceil(HUNG_FACTOR * slowest))))
}

/** `boundedTryTimeoutUnsafe` as an Effect. */
export const boundedTryTimeout = (
  times: CallTimes,
  server: string,
  label: string,
  maxTokens: number,
  floor: Duration.Duration,
) => Effect.sync(() => boundedTryTimeoutUnsafe(times, server, label, maxTokens, floor))
