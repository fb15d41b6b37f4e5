import { randomUUID } from "node:crypto"
import { Effect } from "effect"

/**
 * A search sends the same image (a data: URL of hundreds of kB to MB) in every one of its ~15 requests; JSON-encoding
 * the body and copying it to UTF-8 again per request was most of the gateway's work per call (bench/image.ts). This
 * encodes each long image URL once as a JSON string and splices those bytes into each request body in place of a
 * short placeholder: the SDK stringifies a small body, and the fetch it is given (`fetch` here) sends the spliced
 * one as pieces (the text around the image and the image's cached bytes), without copying the image per request. Placeholders carry a per-process random marker, so no text a caller sends can name an image.
 */
export interface ImageSplicer {
  /**
   * Encodes the body's long image URLs not encoded yet, the JSON string and its UTF-8 each in a turn of the event loop
   * of its own, before `substitute` (which would otherwise do both in the request's turn: for an image of MBs, tens of
   * ms each on a shared VM, bench/hostile.ts). Undefined when there is nothing left to encode, found without an
   * Effect step (most calls: a search's ~15 requests find the image its first one encoded).
   */
  readonly encodeAhead: (body: unknown) => Effect.Effect<void> | undefined
  /** The request body with each long image URL replaced by a placeholder, and `release` once it was sent. */
  readonly substitute: <B>(body: B) => { readonly body: B; readonly release: () => void }
  /** A stringified body with its placeholders swapped for their images' encoded bytes (pieces), or as it was. */
  readonly bodyOf: (text: string) => string | ReadonlyArray<Buffer>
  /** `send`, with the placeholders of a body swapped for their images' encoded bytes. */
  readonly fetch: typeof globalThis.fetch
}

/** Shorter image URLs are stringified with the body as usual: splicing them would save nothing worth having. */
const MIN_SPLICED_CHARS = 64 * 1024

interface ContentPart {
  readonly type?: unknown
  readonly image_url?: { readonly url?: unknown }
}

export const makeImageSplicer = (
  /** The fetch that sends the bodies; spliced ones come to it as an array of Buffers (see LeanTransport). */
  send: typeof globalThis.fetch,
  options: { readonly maxCachedBytes?: number } = {},
): ImageSplicer => {
  const maxCachedBytes = options.maxCachedBytes ?? 32 * 1024 * 1024
  const marker = `stagebeam-image-${randomUUID()}-`
  // Each URL's JSON encoding, oldest first: a call's requests find the one its first request made (the same string,
  // whose hash V8 keeps), and the cache stays within maxCachedBytes.
  const encoded = new Map<string, Buffer>()
  let cachedBytes = 0
  // The placeholders of requests not yet sent, each with its image's bytes.
  const pending = new Map<string, Buffer>()
  let counter = 0

  const encodeOnce = (url: string, stringified?: string): Buffer => {
    const known = encoded.get(url)
    if (known !== undefined) return known
    const json = Buffer.from(stringified ?? JSON.stringify(url), "utf8")
    encoded.set(url, json)
    cachedBytes += json.length
    for (const [oldest, bytes] of encoded) {
      if (cachedBytes <= maxCachedBytes || oldest === url) break
      encoded.delete(oldest)
      cachedBytes -= bytes.length
    }
    return json
  }

  /** The body's image URLs long enough to splice, found in plain loops (every call looks, most find none). */
  const longUrlsOf = (body: unknown): ReadonlyArray<string> => {
    const messages = (body as { readonly messages?: unknown } | undefined)?.messages
    const urls: Array<string> = []
    if (!Array.isArray(messages)) return urls
    for (const message of messages as ReadonlyArray<{ readonly content?: unknown }>) {
      if (!Array.isArray(message.content)) continue
      for (const part of message.content as ReadonlyArray<ContentPart>) {
        const url = part.image_url?.url
        if (part.type === "image_url" && typeof url === "string" && url.length >= MIN_SPLICED_CHARS) urls.push(url)
      }
    }
    return urls
  }

  const encodeAhead = (body: unknown): Effect.Effect<void> | undefined => {
    const missing = longUrlsOf(body).filter((url) => !encoded.has(url))
    return missing.length === 0 ? undefined : encodeEach(missing)
  }

  const encodeEach = (urls: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      for (const url of urls) {
        if (encoded.has(url)) continue
        const stringified = JSON.stringify(url)
        yield* Effect.yieldNow
        encodeOnce(url, stringified)
        yield* Effect.yieldNow
      }
    })

  const keptAsIs = () => {}
  const substitute = <B>(body: B) => {
    const messages = (body as { readonly messages?: unknown }).messages
    // No image to splice (a small one, or none): the body as it is, without copying its messages.
    if (!Array.isArray(messages) || longUrlsOf(body).length === 0) return { body, release: keptAsIs }
    const placed: Array<string> = []
    const withPlaceholders = messages.map((message: { readonly content?: unknown }) => {
      if (!Array.isArray(message.content)) return message
      return {
        ...message,
        content: message.content.map((part: ContentPart) => {
          const url = part.image_url?.url
          if (part.type !== "image_url" || typeof url !== "string" || url.length < MIN_SPLICED_CHARS) return part
          const placeholder = `${marker}${counter++}`
          pending.set(placeholder, encodeOnce(url))
          placed.push(placeholder)
          return { ...part, image_url: { ...part.image_url, url: placeholder } }
        }),
      }
    })
    if (placed.length === 0) return { body, release: keptAsIs }
    return {
      body: { ...body, messages: withPlaceholders } as B,
      release: () => {
        for (const placeholder of placed) pending.delete(placeholder)
      },
    }
  }

  /**
   * The body, each `"<placeholder>"` replaced by the image's JSON string: the text around them and the images' own
   * cached Buffers, referenced instead of copied, so a request allocates its small text only.
   */
  const splice = (text: string): ReadonlyArray<Buffer> => {
    const pieces: Array<Buffer> = []
    let from = 0
    for (let at = text.indexOf(`"${marker}`); at !== -1; at = text.indexOf(`"${marker}`, from)) {
      const end = text.indexOf('"', at + 1)
      const image = pending.get(text.slice(at + 1, end))
      // Released already (the call was abandoned): an image that is gone cannot be sent.
      if (image === undefined) throw new Error("an image placeholder outlived its request")
      pieces.push(Buffer.from(text.slice(from, at), "utf8"), image)
      from = end + 1
    }
    pieces.push(Buffer.from(text.slice(from), "utf8"))
    return pieces
  }

  const fetch: typeof globalThis.fetch = (input, init) => {
    const body = init?.body
    if (typeof body !== "string" || !body.includes(marker)) return send(input, init)
    return send(input, { ...init, body: splice(body) as unknown as string })
  }

  const bodyOf = (text: string) => (text.includes(marker) ? splice(text) : text)

  return { encodeAhead, substitute, bodyOf, fetch }
}
