import { isIP } from "node:net"
import { Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { echoable } from "../RequestBounds.ts"

/**
 * What every answer of the HTTP door carries, so that a browser treats it safely: the page may not be framed (no
 * clickjacking), loads only its own scripts and styles, sends no referrer, and nothing is sniffed into another type.
 * Inline style attributes stay allowed: the page draws its timelines with them.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
}

/** The host name of a Host header ("name:port", "[::1]:8080"), lower case, without its port. */
export const hostNameOf = (host: string): string => {
  const lower = host.trim().toLowerCase()
  if (lower.startsWith("[")) return lower.slice(1, lower.indexOf("]") === -1 ? undefined : lower.indexOf("]"))
  const colon = lower.lastIndexOf(":")
  return colon === -1 ? lower : lower.slice(0, colon)
}

/**
 * Whether the door answers to this host name. DNS rebinding makes a browser send an attacker's name (it resolved to
 * this gateway's address) with the attacker's page's requests: a public name is answered only when listed. An
 * address and a single-label name (a Kubernetes Service, a host in /etc/hosts) cannot be an attacker's public name.
 */
export const hostAllowed = (name: string, allowed: ReadonlyArray<string>): boolean =>
  isIP(name) !== 0 ||
  (name.length > 0 && !name.includes(".")) ||
  allowed.some((entry) => {
    const pattern = entry.toLowerCase()
    if (pattern === "*") return true
    if (pattern.startsWith(".")) return name === pattern.slice(1) || name.endsWith(pattern)
    return name === pattern
  })

const refusal = (status: number, code: string, param: string, message: string) =>
  HttpServerResponse.jsonUnsafe(
    { error: { message: echoable(message), type: "invalid_request_error", param, code } },
    { status },
  )

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"])

/**
 * Why a request is refused before any route reads it, or undefined: a Host the door does not answer to; a
 * cross-origin write (a browser page elsewhere posting here: its Origin is not this host); a body sent as anything
 * but JSON (text/plain and form types are what a page may post cross-site without asking first).
 */
export const refusalOf = (request: HttpServerRequest.HttpServerRequest, allowedHosts: ReadonlyArray<string>) => {
  const host = request.headers.host ?? ""
  const name = hostNameOf(host)
  if (!hostAllowed(name, allowedHosts)) {
    return refusal(
      403,
      "host_not_allowed",
      "host",
      `the Host "${host}" is not one this gateway answers to; list it in http.allowedHosts (STAGEBEAM_HTTP_ALLOWED_HOSTS)`,
    )
  }
  if (SAFE_METHODS.has(request.method)) return undefined
  const origin = request.headers.origin
  const crossSite = request.headers["sec-fetch-site"] === "cross-site"
  if (crossSite || (origin !== undefined && !sameOrigin(origin, host))) {
    return refusal(
      403,
      "cross_origin",
      "origin",
      `a cross-origin ${request.method} is refused (Origin "${origin ?? "unknown"}" is not ${host}): call the API from a server or from this gateway's own page`,
    )
  }
  const mediaType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
  if (mediaType !== "application/json") {
    return refusal(
      415,
      "unsupported_media_type",
      "content-type",
      `the body must be sent as Content-Type: application/json, not "${mediaType}"`,
    )
  }
  return undefined
}

/** Whether a browser's Origin ("https://name:port", or "null") is the Host the request was sent to. */
const sameOrigin = (origin: string, host: string) => {
  try {
    return new URL(origin).host === new URL(`http://${host}`).host
  } catch {
    return false
  }
}

/** The guard over every route: refusals above, and SECURITY_HEADERS on every answer. */
export const browserGuard = (allowedHosts: ReadonlyArray<string>) =>
  HttpRouter.middleware(
    (httpEffect) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const response = refusalOf(request, allowedHosts) ?? (yield* httpEffect)
        return HttpServerResponse.setHeaders(response, SECURITY_HEADERS)
      }),
    { global: true },
  )
