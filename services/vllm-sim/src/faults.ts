// Fault injection, configurable at start and at run time. Rates are probabilities per chat request; durations are
// virtual milliseconds like every other modelled duration (divided by the speed factor).
import { Schema } from "effect"

export const FaultConfig = Schema.Struct({
  /** Probability of answering with an error; the status is `errorStatus` (default 500). */
  errorRate: Schema.optionalKey(Schema.Finite),
  errorStatus: Schema.optionalKey(Schema.Int),
  /** Error probability by status code, e.g. {"503": 0.1, "500": 0.05}; checked after errorRate. */
  errorRates: Schema.optionalKey(Schema.Record(Schema.String, Schema.Finite)),
  /**
   * How an injected error answers: the server's JSON body (default), or what a proxy in front of it sends instead:
   * a plain-text line or an HTML error page.
   */
  errorPage: Schema.optionalKey(Schema.Literals(["json", "text", "html"])),
  /** Added latency before a request is handled, plus uniform jitter in [0, jitterMs). */
  latencyMs: Schema.optionalKey(Schema.Finite),
  jitterMs: Schema.optionalKey(Schema.Finite),
  /** Accept the request and never answer (until the client gives up). */
  hangRate: Schema.optionalKey(Schema.Finite),
  /** Stop sending mid-response after `stallAfterTokens` tokens and keep the connection open. */
  stallRate: Schema.optionalKey(Schema.Finite),
  stallAfterTokens: Schema.optionalKey(Schema.Int),
  /** Destroy the connection without an answer. */
  resetRate: Schema.optionalKey(Schema.Finite),
  /** Answer 200 with a body that is not valid JSON (or a broken SSE event when streaming). */
  malformedRate: Schema.optionalKey(Schema.Finite),
  /** The engine is dead: /health answers 503 and requests fail with 500. */
  dead: Schema.optionalKey(Schema.Boolean),
  /** Still loading: /health and requests answer 503 for this long after start (or after the fault is set). */
  slowStartMs: Schema.optionalKey(Schema.Finite),
})
export type FaultConfig = typeof FaultConfig.Type

export const decodeFaultConfig = Schema.decodeUnknownResult(FaultConfig)

export type FaultAction =
  | { readonly kind: "none" }
  | { readonly kind: "error"; readonly status: number }
  | { readonly kind: "hang" }
  | { readonly kind: "reset" }
  | { readonly kind: "malformed" }
  | { readonly kind: "stall"; readonly afterTokens: number }

/** Which fault, if any, hits this request. */
export const chooseFault = (faults: FaultConfig, random: () => number): FaultAction => {
  if (faults.resetRate !== undefined && random() < faults.resetRate) return { kind: "reset" }
  if (faults.hangRate !== undefined && random() < faults.hangRate) return { kind: "hang" }
  if (faults.errorRate !== undefined && random() < faults.errorRate)
    return { kind: "error", status: faults.errorStatus ?? 500 }
  for (const [status, rate] of Object.entries(faults.errorRates ?? {}))
    if (random() < rate) return { kind: "error", status: Number(status) }
  if (faults.malformedRate !== undefined && random() < faults.malformedRate) return { kind: "malformed" }
  if (faults.stallRate !== undefined && random() < faults.stallRate)
    return { kind: "stall", afterTokens: faults.stallAfterTokens ?? 5 }
  return { kind: "none" }
}

export const addedLatencyMs = (faults: FaultConfig, random: () => number): number =>
  (faults.latencyMs ?? 0) + (faults.jitterMs ?? 0) * random()
