import { Predicate } from "effect"
import { APIConnectionTimeoutError, APIError } from "openai"
import { UpstreamError } from "./FleetError.ts"
import { AnswerTooLarge } from "./LeanTransport.ts"

const MAX_MESSAGE = 300

/** The readable text of an HTML error page: its title (or first heading), else its text without the markup. */
const htmlText = (html: string): string => {
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1] ?? /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(html)?.[1]
  const text = title ?? html.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]+>/g, " ")
  return text
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
}

const tidy = (text: string): string => {
  const oneLine = text.replace(/\s+/g, " ").trim()
  return oneLine.length > MAX_MESSAGE ? `${oneLine.slice(0, MAX_MESSAGE)}…` : oneLine
}

/**
 * The server's own words from an error answer, whatever its shape: vLLM's nested `{error:{message}}` (≥ 0.10.1) or
 * flat `{object:"error", message}` (before, and SGLang), the `{error:"Unauthorized"}` of --api-key, FastAPI's
 * `{detail}`, a plain-text line, or a proxy's HTML page (its title, without the markup).
 */
export const serverMessage = (error: APIError): string => {
  // The SDK hands over the body's `error` member, or the whole body when it has none.
  const body: unknown = error.error
  if (Predicate.isString(body)) return tidy(body)
  if (Predicate.isObject(body)) {
    if ("message" in body && Predicate.isString(body.message)) return tidy(body.message)
    if ("detail" in body && Predicate.isString(body.detail)) return tidy(body.detail)
  }
  // Not JSON: the SDK's message is "<status> <the body as text>".
  const raw = error.status === undefined ? error.message : error.message.replace(new RegExp(`^${error.status}\\s*`), "")
  const text = /<\s*(html|!doctype|head|body)\b/i.test(raw) ? htmlText(raw) : raw
  return tidy(text) || `${error.status ?? "an error"} with an empty body`
}

const refusedKey = (pool: string, hasKey: boolean, status: number, message: string) =>
  hasKey
    ? `the server refused the ${pool} pool's API key (${status}: ${message})`
    : `the server wants an API key and the ${pool} pool has none (${status}: ${message})`

/** The AnswerTooLarge behind an error, however the SDK wrapped it (a connection error's cause, or as is in a stream). */
const tooLarge = (error: unknown): AnswerTooLarge | undefined => {
  for (let at = error, depth = 0; at !== undefined && at !== null && depth < 4; depth++) {
    if (at instanceof AnswerTooLarge) return at
    at = (at as { readonly cause?: unknown }).cause
  }
  return undefined
}

/**
 * What one failed call becomes. The kind decides retries (UpstreamError.retryable): an answer that is not a
 * completion is `malformed` (worth another try), a refused key is a `status` that no retry fixes.
 */
export const toUpstreamError = (
  target: { readonly pool: string; readonly server: string; readonly hasKey: boolean },
  error: unknown,
): UpstreamError => {
  const at = { pool: target.pool, server: target.server }
  if (error instanceof UpstreamError) return error
  const large = tooLarge(error)
  if (large !== undefined) return new UpstreamError({ ...at, kind: "malformed", message: large.message })
  if (error instanceof APIConnectionTimeoutError) {
    return new UpstreamError({ ...at, kind: "timeout", message: "the server did not answer in time" })
  }
  if (error instanceof APIError && error.status !== undefined) {
    const message = serverMessage(error)
    return new UpstreamError({
      ...at,
      kind: "status",
      status: error.status,
      message:
        error.status === 401 || error.status === 403
          ? refusedKey(target.pool, target.hasKey, error.status, message)
          : message,
    })
  }
  if (error instanceof APIError) {
    // An error event inside a stream: the server failed mid-answer.
    return new UpstreamError({ ...at, kind: "status", message: serverMessage(error) })
  }
  if (error instanceof SyntaxError) {
    return new UpstreamError({ ...at, kind: "malformed", message: `the answer is not JSON: ${error.message}` })
  }
  return new UpstreamError({ ...at, kind: "connect", message: error instanceof Error ? error.message : String(error) })
}
