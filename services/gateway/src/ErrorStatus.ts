import { NoCapacity, UpstreamError } from "@stagebeam/fleet"
import { GrpcStatus, type GrpcStatusError } from "@stagebeam/grpc"
import type { GenerationFailed, JudgeFailed, SearchError } from "@stagebeam/search"
import type { DeadlinePassed, InvalidField, Overloaded } from "./GatewayErrors.ts"

export type GatewayError = SearchError | InvalidField | Overloaded | DeadlinePassed

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

/** A failed model call: worth a retry (UNAVAILABLE) unless the server refused the request itself. */
const upstreamStatus = (error: GenerationFailed | JudgeFailed): GrpcStatusError => {
  const cause = error.cause
  const detail = cause instanceof UpstreamError ? `${cause.server}: ${cause.message}` : cause.message
  const trailers = upstreamTrailers(cause)
  return error.retryable
    ? GrpcStatus.unavailable(detail, trailers)
    : GrpcStatus.failedPrecondition(`an upstream server refused the request: ${detail}`, trailers)
}

/** The one place where failures become gRPC statuses. Nothing here is INTERNAL: every failure has a reason. */
export const toStatus = (error: GatewayError): GrpcStatusError => {
  switch (error._tag) {
    case "InvalidField":
      return GrpcStatus.invalidArgument(error.field, error.message)
    case "Overloaded":
      return GrpcStatus.resourceExhausted(error.message)
    case "DeadlinePassed":
      return GrpcStatus.deadlineExceeded(error.message)
    case "BudgetExhausted":
      return error.reason === "DEADLINE"
        ? GrpcStatus.deadlineExceeded(error.message)
        : GrpcStatus.resourceExhausted(error.message)
    case "NoValidCandidate":
      // Every candidate ran out of tokens: the same request fails the same way, a larger budget per call may not.
      if (error.allCutByLength) {
        return GrpcStatus.failedPrecondition(
          `${error.message}; raise search.sampling.max_tokens (or search.token_budget)`,
        )
      }
      // The model wrote no usable stage twice; another seed may well succeed, so this is worth a retry.
      return GrpcStatus.unavailable(error.message)
    case "GenerationFailed":
    case "JudgeFailed":
      return upstreamStatus(error)
  }
}
