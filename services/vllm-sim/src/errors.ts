// vLLM's error responses: nested {error:{...}} from v0.10.1, flat {object:"error", ...} before it.
import { Schema } from "effect"

export type ErrorFormat = "nested" | "flat"

/** A request the simulated server refuses, with vLLM's status code and error type. */
export class ApiError extends Schema.TaggedError<ApiError>()("ApiError", {
  status: Schema.Int,
  type: Schema.String,
  message: Schema.String,
  param: Schema.NullOr(Schema.String),
}) {}

export const badRequest = (message: string, param: string | null = null) =>
  new ApiError({ status: 400, type: "BadRequestError", message, param })

export const notFound = (message: string) => new ApiError({ status: 404, type: "NotFoundError", message, param: null })

const typeByStatus: Record<number, string> = {
  400: "BadRequestError",
  404: "NotFoundError",
  408: "RequestTimeoutError",
  429: "TooManyRequestsError",
  500: "InternalServerError",
  502: "BadGatewayError",
  503: "ServiceUnavailableError",
  504: "GatewayTimeoutError",
}

export const errorForStatus = (status: number, message: string) =>
  new ApiError({ status, type: typeByStatus[status] ?? "InternalServerError", message, param: null })

export const errorBody = (error: ApiError, format: ErrorFormat): unknown => {
  const info = { message: error.message, type: error.type, param: error.param, code: error.status }
  return format === "flat" ? { object: "error", ...info } : { error: info }
}

const reasons: Record<number, string> = {
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
}

/** An error page as a reverse proxy (nginx) in front of the server sends it: a text line or an HTML page. */
export const proxyErrorPage = (status: number, kind: "text" | "html"): { contentType: string; body: string } => {
  const reason = reasons[status] ?? "Error"
  return kind === "text"
    ? { contentType: "text/plain; charset=utf-8", body: `${reason}\n` }
    : {
        contentType: "text/html",
        body: `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx/1.27.4</center>\r\n</body>\r\n</html>\r\n`,
      }
}
