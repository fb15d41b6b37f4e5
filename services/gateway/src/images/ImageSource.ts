import { Effect } from "effect"
import { type InvalidField, invalidField as invalid } from "../GatewayErrors.ts"
import type { ImageSource } from "./Images.ts"

const IMAGE_DATA = ["image", "data"] as const
const IMAGE_URL = ["image", "url"] as const

const DATA_URL = /^data:(image\/[a-z0-9.+-]+)?(;base64)?,(.*)$/is

/**
 * What can be checked of a request's image before the call is admitted, without fetching or decoding anything:
 * the size of inline bytes, the form of a data: URL, the scheme of an http(s) URL.
 */
export const toImageSource = Effect.fnUntraced(function* (
  image: { readonly data?: Uint8Array | undefined; readonly url?: string | undefined; readonly mimeType: string },
  source: "data" | "url",
  maxBytes: number,
): Effect.fn.Return<ImageSource, InvalidField> {
  const sized = (field: readonly ["image", "data" | "url"], bytes: Uint8Array) => {
    if (bytes.length === 0) return Effect.fail(invalid(field, "is empty"))
    if (bytes.length > maxBytes)
      return Effect.fail(invalid(field, `is ${bytes.length} bytes; at most ${maxBytes} allowed`))
    return Effect.succeed(bytes)
  }
  if (source === "data") {
    const bytes = yield* sized(IMAGE_DATA, image.data ?? new Uint8Array())
    return { kind: "bytes", field: IMAGE_DATA, bytes, declaredMime: image.mimeType }
  }
  const url = image.url ?? ""
  const dataMatch = DATA_URL.exec(url)
  if (dataMatch !== null) {
    if (dataMatch[2] === undefined) return yield* Effect.fail(invalid(IMAGE_URL, "must be a base64 data: URL"))
    const encoded = (dataMatch[3] ?? "").replace(/\s/g, "")
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
      return yield* Effect.fail(invalid(IMAGE_URL, "is a data: URL whose base64 payload is empty or not base64"))
    }
    const bytes = yield* sized(IMAGE_URL, Buffer.from(encoded, "base64"))
    return { kind: "bytes", field: IMAGE_URL, bytes, declaredMime: dataMatch[1] ?? "" }
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return yield* Effect.fail(invalid(IMAGE_URL, "is not a URL"))
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return yield* Effect.fail(invalid(IMAGE_URL, "must be http(s) or a data: URL"))
  }
  return { kind: "url", url: parsed }
})
