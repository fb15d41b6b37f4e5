import { Schema } from "effect"

/** An upstream server failed one call: refused, timed out, answered an error status or an unreadable body. */
export class UpstreamError extends Schema.TaggedError<UpstreamError>()("UpstreamError", {
  /** The pool the server belongs to ("generator", "judge", …). */
  pool: Schema.String,
  /** The server's base URL. */
  server: Schema.String,
  kind: Schema.Literals(["connect", "timeout", "status", "malformed"]),
  /** The HTTP status, when the server answered one. */
  status: Schema.optional(Schema.Number),
  message: Schema.String,
}) {
  /**
   * Worth another try, on this server or another: the request itself was not at fault. This is the one place that
   * decides it; every caller (failover, the search, the gRPC status) asks here.
   */
  get retryable(): boolean {
    return this.kind !== "status" || this.status === undefined || this.status === 429 || this.status >= 500
  }
}

/** No server of the pool can take the call now (each one and why: Unavailability.ts). */
export class NoCapacity extends Schema.TaggedError<NoCapacity>()("NoCapacity", {
  pool: Schema.String,
  message: Schema.String,
}) {
  /** Servers come back (health probes, cooldowns), so a later try may succeed. */
  get retryable(): boolean {
    return true
  }
}

export type FleetError = UpstreamError | NoCapacity

/** A server of a pool does not list the pool's model on /v1/models: every call would fail, so nothing starts. */
export class ModelNotServed extends Schema.TaggedError<ModelNotServed>()("ModelNotServed", {
  pool: Schema.String,
  server: Schema.String,
  model: Schema.String,
  /** The names the server does list. */
  offered: Schema.Array(Schema.String),
  message: Schema.String,
}) {}
