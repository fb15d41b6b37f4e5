import { Runtime, Schema } from "effect"
import { echoable } from "./RequestBounds.ts"
import type { FieldRef } from "./RequestPath.ts"

const isPath = (u: unknown): u is Exclude<FieldRef, string> =>
  Array.isArray(u) && u.every((segment) => typeof segment === "string")

/**
 * A request field the gateway refuses: a path into the request (each door spells it: `protoField`, `chatField`), or
 * a field only one door has, already spelled.
 */
export class InvalidField extends Schema.TaggedError<InvalidField>()("InvalidField", {
  field: Schema.Union([Schema.String, Schema.declare(isPath)]),
  message: Schema.String,
}) {}

/** Field and message are cut to a bounded length: either may quote the caller's input. */
export const invalidField = (field: FieldRef, message: string): InvalidField =>
  new InvalidField({ field: typeof field === "string" ? echoable(field) : field, message: echoable(message) })

/** The gateway refused the call to protect itself: too much running and queued. */
export class Overloaded extends Schema.TaggedError<Overloaded>()("Overloaded", {
  message: Schema.String,
}) {}

/** The gateway is shutting down: a new call is refused, or a call ran past the drain time. Worth a retry elsewhere. */
export class ShuttingDown extends Schema.TaggedError<ShuttingDown>()("ShuttingDown", {
  message: Schema.String,
}) {}

/** The call's deadline passed before an answer existed (while queued, or a search that could not be cut in time). */
export class DeadlinePassed extends Schema.TaggedError<DeadlinePassed>()("DeadlinePassed", {
  message: Schema.String,
}) {}

/** The request needs something the servers of a pool cannot do (e.g. continue a partial answer). */
export class Unsupported extends Schema.TaggedError<Unsupported>()("Unsupported", {
  pool: Schema.String,
  /** The missing capability, as the settings name it (`pools.<pool>.capabilities.<capability>`). */
  capability: Schema.String,
  message: Schema.String,
}) {}

/** Settings that cannot work (or cannot be read): the gateway stops at start, saying what to fix. */
export class GatewayConfigError extends Schema.TaggedError<GatewayConfigError>()("GatewayConfigError", {
  message: Schema.String,
}) {
  // main logs the message itself, without a stack trace, and exits 2 (a usage error, not a crash).
  override readonly [Runtime.errorExitCode] = 2
  override readonly [Runtime.errorReported] = false
}
