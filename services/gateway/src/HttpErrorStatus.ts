import { UpstreamError } from "@stagebeam/fleet"
import type { GrpcStatusError } from "@stagebeam/grpc"
import { cutByLengthMessage, type GatewayError, toStatus } from "./ErrorStatus.ts"
import type { FieldRef, RequestPath } from "./RequestPath.ts"

/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export interface OpenAiError {
  readonly error: {
    readonly message: string
    readonly type: string
    readonly param: string | null
    readonly code: string | null
  }
}

/** A failure as the HTTP door answers it: the status, OpenAI's body, and headers (request id, upstream, retry). */
export interface HttpFailure {
  readonly status: number
  readonly body: OpenAiError
  readonly headers: Readonly<Record<string, string>>
}

const failure = (
  status: number,
  type: string,
  message: string,
  options: { readonly param?: string; readonly code?: string; readonly headers?: Record<string, string> } = {},
): HttpFailure => ({
  status,
  body: { error: { message, type, param: options.param ?? null, code: options.code ?? null } },
  headers: options.headers ?? {},
})

/** Where a capability the pool lacks shows in the request. */
const CAPABILITY_PARAM: Readonly<Record<string, RequestPath>> = {
  continuation: ["strategy"],
  images: ["image"],
}

/** Seconds a client should wait before retrying a call refused for capacity (admission is FIFO and quick). */
const RETRY_AFTER = "1"

/**
 * The one place where failures become HTTP answers, next to ErrorStatus.ts (gRPC) and from the same tagged errors:
 * the gRPC status decides the class (so both doors answer a failure alike), the error adds the field and the
 * upstream details. `fieldOf` names a request field as this request spelled it (`chatField`).
 */
export const toHttpFailure = (error: GatewayError, fieldOf: (field: FieldRef) => string): HttpFailure => {
  const status = toStatus(error)
  const upstream = { ...(status.metadata ?? {}) }
  delete upstream["x-invalid-field"]
  switch (error._tag) {
    case "InvalidField": {
      const param = fieldOf(error.field)
      return failure(400, "invalid_request_error", `invalid ${param}: ${error.message}`, { param })
    }
    case "Unsupported":
      return failure(400, "invalid_request_error", error.message, {
        param: fieldOf(CAPABILITY_PARAM[error.capability] ?? error.capability),
        code: `missing_capability_${error.capability}`,
        headers: upstream,
      })
    case "Overloaded":
      return failure(429, "rate_limit_error", error.message, {
        code: "overloaded",
        headers: { "retry-after": RETRY_AFTER },
      })
    case "DeadlinePassed":
      return failure(504, "timeout_error", error.message, { code: "deadline_exceeded" })
    case "ShuttingDown":
      return failure(503, "server_error", error.message, {
        code: "shutting_down",
        headers: { "retry-after": RETRY_AFTER },
      })
    case "BudgetExhausted":
      return error.reason === "DEADLINE"
        ? failure(504, "timeout_error", error.message, { code: "deadline_exceeded" })
        : failure(400, "invalid_request_error", error.message, {
            param: fieldOf(["tokenBudget"]),
            code: "token_budget_exhausted",
          })
    case "NoValidCandidate": {
      // The knobs to raise, as this request spells them (gRPC's status names the proto's).
      return error.allCutByLength
        ? failure(400, "invalid_request_error", cutByLengthMessage(error.message, fieldOf), {
            param: fieldOf(["sampling", "maxTokens"]),
            code: "all_candidates_cut_by_length",
          })
        : failure(503, "server_error", status.message, {
            code: "no_valid_candidate",
            headers: { "retry-after": RETRY_AFTER },
          })
    }
    case "GenerationFailed":
    case "JudgeFailed": {
      const cause = error.cause
      // The gateway's own key was refused: its configuration must change, the caller can do nothing (502).
      if (cause instanceof UpstreamError && (cause.status === 401 || cause.status === 403)) {
        return failure(502, "server_error", status.message, { code: "upstream_authentication", headers: upstream })
      }
      return error.retryable
        ? failure(503, "server_error", status.message, {
            code: "upstream_unavailable",
            headers: { ...upstream, "retry-after": RETRY_AFTER },
          })
        : failure(400, "invalid_request_error", status.message, { code: "upstream_refused", headers: upstream })
    }
  }
}

/** An authentication refusal (the shared token gate answers in gRPC statuses). */
export const authFailure = (error: GrpcStatusError): HttpFailure => {
  switch (error.statusName) {
    case "UNAUTHENTICATED":
      return failure(401, "invalid_request_error", error.message, {
        code: "invalid_api_key",
        headers: { "www-authenticate": "Bearer" },
      })
    case "PERMISSION_DENIED":
      return failure(403, "invalid_request_error", error.message, { code: "permission_denied" })
    case "RESOURCE_EXHAUSTED":
      return failure(429, "rate_limit_error", error.message, {
        code: "token_concurrency",
        headers: { "retry-after": RETRY_AFTER },
      })
    default:
      return failure(503, "server_error", error.message)
  }
}

/** The gRPC status name a failure counts under in the shared call metrics and access lines. */
export const outcomeOf = (error: GatewayError): string => toStatus(error).statusName
