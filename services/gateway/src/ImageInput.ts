import { type Duration, Effect } from "effect"
import sharp from "sharp"
import { type InvalidField, invalidField as invalid } from "./GatewayErrors.ts"

const MIME_BY_FORMAT: Readonly<Record<string, string>> = {
  png: "image/png",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
}

/** Decodes the header with sharp: only formats the model's image processor reads are let through; gives the MIME type. */
const probe = (bytes: Uint8Array, field: string) =>
  Effect.tryPromise({
    try: () => sharp(bytes, { failOn: "error" }).metadata(),
    catch: () => invalid(field, "is not a decodable image (PNG, JPEG, GIF or WebP expected)"),
  }).pipe(
    Effect.flatMap((metadata) => {
      const mime = metadata.format === undefined ? undefined : MIME_BY_FORMAT[metadata.format]
      if (mime === undefined || metadata.width === undefined || metadata.height === undefined) {
        return Effect.fail(
          invalid(field, `has format ${metadata.format ?? "unknown"}; PNG, JPEG, GIF or WebP expected`),
        )
      }
      return Effect.succeed(mime)
    }),
  )

const dataUrl = (mime: string, bytes: Uint8Array) => `data:${mime};base64,${Buffer.from(bytes).toString("base64")}`

/** Checked bytes as the data: URL the GPU servers get. */
export const fromBytes = Effect.fnUntraced(function* (
  bytes: Uint8Array,
  declaredMime: string,
  maxBytes: number,
): Effect.fn.Return<string, InvalidField> {
  if (bytes.length === 0) return yield* Effect.fail(invalid("image.data", "is empty"))
  if (bytes.length > maxBytes) {
    return yield* Effect.fail(invalid("image.data", `is ${bytes.length} bytes; at most ${maxBytes} allowed`))
  }
  const mime = yield* probe(bytes, "image.data")
  if (declaredMime !== "" && declaredMime.toLowerCase() !== mime) {
    return yield* Effect.fail(invalid("image.mime_type", `says ${declaredMime} but the data is ${mime}`))
  }
  return dataUrl(mime, bytes)
})

const DATA_URL = /^data:(image\/[a-z0-9.+-]+)?(;base64)?,(.*)$/is

/** Reads a response body, refusing it as soon as it grows past `maxBytes`. */
const readLimited = async (response: Response, maxBytes: number): Promise<Uint8Array | "too large"> => {
  const declared = Number(response.headers.get("content-length") ?? "0")
  if (declared > maxBytes) return "too large"
  const chunks: Array<Uint8Array> = []
  let size = 0
  for await (const chunk of response.body ?? []) {
    size += chunk.length
    if (size > maxBytes) return "too large"
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/**
 * Fetches an http(s) image once, here: the GPU servers then get the checked bytes inline, instead of each of a
 * search's calls fetching the URL again (and possibly getting another image, or an error mid-search).
 */
const fetchImage = (url: string, maxBytes: number, timeout: Duration.Duration) =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, { signal, redirect: "follow" })
      if (!response.ok) return { problem: `could not be fetched (HTTP ${response.status})` } as const
      const body = await readLimited(response, maxBytes)
      return body === "too large"
        ? ({ problem: `is larger than ${maxBytes} bytes` } as const)
        : ({ bytes: body, mime: response.headers.get("content-type") ?? "" } as const)
    },
    catch: (error) =>
      invalid("image.url", `could not be fetched (${error instanceof Error ? error.message : String(error)})`),
  }).pipe(
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () => Effect.fail(invalid("image.url", "could not be fetched in time")),
    }),
    Effect.flatMap((fetched) =>
      "problem" in fetched ? Effect.fail(invalid("image.url", fetched.problem)) : Effect.succeed(fetched),
    ),
  )

/** An image URL as the data: URL the GPU servers get (an http(s) image is fetched here, once). */
export const fromUrl = Effect.fnUntraced(function* (
  url: string,
  maxBytes: number,
  fetchTimeout: Duration.Duration,
): Effect.fn.Return<string, InvalidField> {
  const dataMatch = DATA_URL.exec(url)
  if (dataMatch !== null) {
    if (dataMatch[2] === undefined) {
      return yield* Effect.fail(invalid("image.url", "must be a base64 data: URL"))
    }
    const encoded = (dataMatch[3] ?? "").replace(/\s/g, "")
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
      return yield* Effect.fail(invalid("image.url", "is a data: URL whose base64 payload is empty or not base64"))
    }
    return yield* fromBytes(Buffer.from(encoded, "base64"), dataMatch[1] ?? "", maxBytes).pipe(
      Effect.mapError((problem) => invalid("image.url", problem.message)),
    )
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return yield* Effect.fail(invalid("image.url", "is not a URL"))
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return yield* Effect.fail(invalid("image.url", "must be http(s) or a data: URL"))
  }
  const fetched = yield* fetchImage(url, maxBytes, fetchTimeout)
  // The served content type is only a hint (servers often say octet-stream): the bytes decide.
  return yield* fromBytes(fetched.bytes, "", maxBytes).pipe(
    Effect.mapError((problem) => invalid("image.url", problem.message)),
  )
})
