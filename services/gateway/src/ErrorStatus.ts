import { NoCapacity, UpstreamError } from "@stagebeam/fleet"
import { GrpcStatus, type GrpcStatusError } from "@stagebeam/grpc"
import type { GenerationFailed, JudgeFailed, SearchError } from "@stagebeam/search"
import type { DeadlinePassed, InvalidField, Overloaded, ShuttingDown, Unsupported } from "./GatewayErrors.ts"
import { protoField } from "./ProtoFields.ts"
import type { FieldRef } from "./RequestPath.ts"

export type GatewayError = SearchError | InvalidField | Overloaded | DeadlinePassed | Unsupported | ShuttingDown

/**
 * What a search whose every candidate ran out of tokens says to raise: the same sentence on both doors, each field
 * as that door spells it (`protoField` here, `chatField` on HTTP).
 */
export const cutByLengthMessage = (message: string, spell: (field: FieldRef) => string): string =>
  `${message}; raise ${spell(["sampling", "maxTokens"])} (or ${spell(["tokenBudget"])})`

/** Which pool and server failed and how, as trailers a client (or an operator reading its logs) can act on. */
const upstreamTrailers = (cause: unknown): Record<string, string> => {
  if (cause instanceof UpstreamError) {
    return {
      "x-upstream-pool": cause.pool,
      "x-upstream-server": cause.server,
      "x-upstream-kind": cause.kind,
      ...(cause.status === undefined ? {} : { "x-upstream-status": String(cause.status) }),
    }
  }
  return cause instanceof NoCapacity ? { "x-upstream-pool": cause.pool } : {}
}

/**
 * A failed model call: worth a retry (UNAVAILABLE) unless the server refused the request itself. A refused API key
 * is the gateway's own configuration, not the caller's: FAILED_PRECONDITION (the call is fine, the system must be
 * fixed first) rather than PERMISSION_DENIED or UNAUTHENTICATED, which would tell the caller its credentials failed.
 */
const upstreamStatus = (error: GenerationFailed | JudgeFailed): GrpcStatusError => {
  const cause = error.cause
  const detail = cause instanceof UpstreamError ? `${cause.server}: ${cause.message}` : cause.message
  const trailers = upstreamTrailers(cause)
  if (cause instanceof UpstreamError && (cause.status === 401 || cause.status === 403)) {
    return GrpcStatus.failedPrecondition(
      `the ${cause.pool} pool cannot authenticate to its servers: ${detail}; check pools.${cause.pool}.apiKey`,
      trailers,
    )
  }
  return error.retryable
    ? GrpcStatus.unavailable(detail, trailers)
    : GrpcStatus.failedPrecondition(`an upstream server refused the request: ${detail}`, trailers)
}

/** The one place where failures become gRPC statuses. Nothing here is INTERNAL: every failure has a reason. */
export const toStatus = (error: GatewayError): GrpcStatusError => {
  switch (error._tag) {
    case "InvalidField":
      return GrpcStatus.invalidArgument(protoField(error.field), error.message)
    case "Overloaded":
      return GrpcStatus.resourceExhausted(error.message)
    case "DeadlinePassed":
      return GrpcStatus.deadlineExceeded(error.message)
    case "ShuttingDown":
      return GrpcStatus.unavailable(error.message)
    case "Unsupported":
      return GrpcStatus.failedPrecondition(error.message, {
        "x-upstream-pool": error.pool,
        "x-missing-capability": error.capability,
      })
    case "BudgetExhausted":
      return error.reason === "DEADLINE"
        ? GrpcStatus.deadlineExceeded(error.message)
        : GrpcStatus.resourceExhausted(error.message)
    case "NoValidCandidate":
      // Every candidate ran out of tokens: the same request fails the same way, a larger budget per call may not.
      if (error.allCutByLength) {
        return GrpcStatus.failedPrecondition(cutByLengthMessage(error.message, protoField))
      }
      // The model wrote no usable stage twice; another seed may well succeed, so this is worth a retry.
      return GrpcStatus.unavailable(error.message)
    case "GenerationFailed":
    case "JudgeFailed":
      return upstreamStatus(error)
  }
}
