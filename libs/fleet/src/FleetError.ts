import { Schema } from "effect"

/** An upstream server failed one call: refused, timed out, answered an error status or an unreadable body. */
export class UpstreamError extends Schema.TaggedError<UpstreamError>()("UpstreamError", {
  endpoint: Schema.String,
  kind: Schema.Literals(["connect", "timeout", "status", "malformed"]),
  status: Schema.optional(Schema.Number),
  message: Schema.String,
}) {
  /** Worth another try on another server: the request itself was not at fault. */
  get retryable(): boolean {
    return this.kind !== "status" || this.status === undefined || this.status === 429 || this.status >= 500
  }
}

/** No server of the pool can take the call (all down, or all at their in-flight limit for too long). */
export class NoCapacity extends Schema.TaggedError<NoCapacity>()("NoCapacity", {
  pool: Schema.String,
  message: Schema.String,
}) {}

export type FleetError = UpstreamError | NoCapacity

/** What a caller needs of a fleet failure: a message naming the server, and whether another try may succeed. */
export const describeFleetError = (error: FleetError): { readonly message: string; readonly retryable: boolean } =>
  error._tag === "NoCapacity"
    ? { message: error.message, retryable: true }
    : { message: `${error.endpoint}: ${error.message}`, retryable: error.retryable }
