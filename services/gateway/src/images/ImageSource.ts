import { Effect } from "effect"
import { type InvalidField, invalidField as invalid } from "../GatewayErrors.ts"
import type { ImageSource } from "./Images.ts"

const IMAGE_DATA = ["image", "data"] as const
const IMAGE_URL = ["image", "url"] as const

/** A data: URL's image as read from it, or what is wrong with it (the words of the `image.url` refusal). */
export type DataUrlImage = { readonly mime: string; readonly bytes: Uint8Array } | { readonly problem: string }

/**
 * Reads a data: URL's image; undefined for a string that is no data: URL. Self-contained (no imports, no outer
 * names): the HTTP door's parsing worker runs this function's own source on megabytes of URL (JsonBody.ts), so a
 * large image is decoded off the event loop with the same checks and words as here.
 */
export function readDataUrl(url: string): DataUrlImage | undefined {
  if (url.slice(0, 5).toLowerCase() !== "data:") return undefined
  const match = /^data:(image\/[a-z0-9.+-]+)?(;base64)?,(.*)$/is.exec(url)
  // Another kind of data: URL (text/plain, …), as the URL check below would refuse it.
  if (match === null) return { problem: "must be http(s) or a data: URL" }
  if (match[2] === undefined) return { problem: "must be a base64 data: URL" }
  const encoded = (match[3] ?? "").replace(/\s/g, "")
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
    return { problem: "is a data: URL whose base64 payload is empty or not base64" }
  }
  return { mime: match[1] ?? "", bytes: Buffer.from(encoded, "base64") }
}

const sized = (field: readonly ["image", "data" | "url"], bytes: Uint8Array, maxBytes: number) => {
  if (bytes.length === 0) return Effect.fail(invalid(field, "is empty"))
  if (bytes.length > maxBytes)
    return Effect.fail(invalid(field, `is ${bytes.length} bytes; at most ${maxBytes} allowed`))
  return Effect.succeed(bytes)
}

/** The image of a data: URL read already (here, or by the HTTP door's parsing worker). */
export const fromDataUrl = (image: DataUrlImage, maxBytes: number): Effect.Effect<ImageSource, InvalidField> =>
  "problem" in image
    ? Effect.fail(invalid(IMAGE_URL, image.problem))
    : Effect.map(sized(IMAGE_URL, image.bytes, maxBytes), (bytes) => ({
        kind: "bytes" as const,
        field: IMAGE_URL,
        bytes,
        declaredMime: image.mime,
      }))

/**
 * What can be checked of a request's image before the call is admitted, without fetching or decoding anything:
 * the size of inline bytes, the form of a data: URL, the scheme of an http(s) URL.
 */
export const toImageSource = Effect.fnUntraced(function* (
  image: { readonly data?: Uint8Array | undefined; readonly url?: string | undefined; readonly mimeType: string },
  source: "data" | "url",
  maxBytes: number,
): Effect.fn.Return<ImageSource, InvalidField> {
  if (source === "data") {
    const bytes = yield* sized(IMAGE_DATA, image.data ?? new Uint8Array(), maxBytes)
    return { kind: "bytes", field: IMAGE_DATA, bytes, declaredMime: image.mimeType }
  }
  const url = image.url ?? ""
  const dataUrl = readDataUrl(url)
  if (dataUrl !== undefined) return yield* fromDataUrl(dataUrl, maxBytes)
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
