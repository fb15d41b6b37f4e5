import { GrpcStatus, type GrpcStatusError } from "@stagebeam/grpc"
import type { SearchError } from "@stagebeam/search"
import type { DeadlinePassed, InvalidField, Overloaded } from "./GatewayErrors.ts"

export type GatewayError = SearchError | InvalidField | Overloaded | DeadlinePassed

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
      return error.retryable
        ? GrpcStatus.unavailable(error.message)
        : GrpcStatus.failedPrecondition(`an upstream server refused the request: ${error.message}`)
  }
}
