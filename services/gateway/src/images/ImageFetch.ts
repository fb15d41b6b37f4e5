import { lookup as dnsLookup, type LookupAddress } from "node:dns"
import * as http from "node:http"
import * as https from "node:https"
import type { LookupFunction } from "node:net"
import { type Duration, Effect, Schema } from "effect"
import type { AddressPolicy } from "./AddressPolicy.ts"

/** Why one fetch failed: for the operator's log only — the caller always gets the same answer (no port mapping). */
export class ImageFetchFailed extends Schema.TaggedError<ImageFetchFailed>()("ImageFetchFailed", {
  host: Schema.String,
  reason: Schema.String,
}) {}

export interface FetchLimits {
  readonly policy: AddressPolicy
  readonly maxBytes: number
  readonly maxRedirects: number
  readonly timeout: Duration.Duration
}

class Refused extends Error {}

/**
 * Resolves a name and lets the connection use the answer only if every address it resolved to is allowed: the
 * check and the connection see the same addresses, so a name that resolves differently the second time (DNS
 * rebinding) gains nothing.
 */
const vettedLookup =
  (policy: AddressPolicy): LookupFunction =>
  (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (error, addresses: Array<LookupAddress>) => {
      if (error !== null) return callback(error, "", 0)
      if (addresses.length === 0 || !addresses.every((address) => policy.allows(address.address))) {
        return callback(new Refused(`${hostname} resolves to an address that may not be fetched`), "", 0)
      }
      if (options.all === true)
        return (callback as unknown as (e: null, a: Array<LookupAddress>) => void)(null, addresses)
      const first = addresses[0]!
      return callback(null, first.address, first.family)
    })
  }

type Hop = { readonly redirect: URL } | { readonly bytes: Uint8Array }

/** One GET: a redirect to follow, or the body (refused as soon as it grows past `maxBytes`). */
const get = (url: URL, limits: FetchLimits, signal: AbortSignal) =>
  new Promise<Hop>((resolve, reject) => {
    const literal = url.hostname
    if (/^[\d.]+$|^\[.*\]$/.test(literal) && !limits.policy.allows(literal)) {
      return reject(new Refused(`${literal} may not be fetched`))
    }
    const client = url.protocol === "https:" ? https : http
    const request = client.request(url, {
      method: "GET",
      signal,
      lookup: vettedLookup(limits.policy),
      headers: { accept: "image/*" },
    })
    request.on("error", reject)
    request.on("response", (response) => {
      const status = response.statusCode ?? 0
      const location = response.headers.location
      if (status >= 300 && status < 400 && location !== undefined) {
        response.resume()
        return resolve({ redirect: new URL(location, url) })
      }
      if (status < 200 || status >= 300) {
        response.resume()
        return reject(new Error(`HTTP ${status}`))
      }
      const declared = Number(response.headers["content-length"] ?? "0")
      if (declared > limits.maxBytes) {
        response.destroy()
        return reject(new Error(`declares ${declared} bytes`))
      }
      const chunks: Array<Buffer> = []
      let size = 0
      response.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (size > limits.maxBytes) {
          response.destroy()
          reject(new Error(`larger than ${limits.maxBytes} bytes`))
          return
        }
        chunks.push(chunk)
      })
      response.on("error", reject)
      response.on("end", () => resolve({ bytes: Buffer.concat(chunks) }))
    })
    request.end()
  })

/**
 * Fetches an http(s) image once, on the gateway: every hop (redirects included, at most `maxRedirects`) must go to
 * an address the policy allows, the body is capped while it streams, and the whole fetch has one deadline.
 */
export const fetchImage = (url: URL, limits: FetchLimits): Effect.Effect<Uint8Array, ImageFetchFailed> =>
  Effect.tryPromise({
    try: async (signal) => {
      let current = url
      for (let hop = 0; hop <= limits.maxRedirects; hop++) {
        if (current.protocol !== "http:" && current.protocol !== "https:") throw new Refused("a redirect left http(s)")
        const result = await get(current, limits, signal)
        if ("bytes" in result) return result.bytes
        current = result.redirect
      }
      throw new Refused(`more than ${limits.maxRedirects} redirects`)
    },
    catch: (error) =>
      new ImageFetchFailed({ host: url.host, reason: error instanceof Error ? error.message : String(error) }),
  }).pipe(
    Effect.timeoutOrElse({
      duration: limits.timeout,
      orElse: () => Effect.fail(new ImageFetchFailed({ host: url.host, reason: "no answer in time" })),
    }),
  )
