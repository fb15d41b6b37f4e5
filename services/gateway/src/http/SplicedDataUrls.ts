import { randomBytes } from "node:crypto"
import type { DataUrlImage } from "../images/ImageSource.ts"

/**
 * An inline image's data URL taken out of a request body's bytes before JSON.parse, and put back into the parsed
 * value: the parser never scans it. Where the chat request reads its image (an `image_url` part's `url`), the URL is
 * never made into a string at all: its image is read from the body's bytes, in pieces (`images`, by the placeholder
 * left there, as the parsing worker hands large ones over). A photo's 240 kB data URL made into one string was ~1 ms
 * of CPU per body in V8's large-object space, page faults and later marking included, and the checks and decode over
 * it as much again (perf of bench/gateway-cpu.ts with the JPEG). Anywhere else the URL is put back as its string.
 * With the image out, a photo's body of more than 256 kB is parsed on the event loop instead of in the worker.
 * Only a data URL whose bytes are exactly its JSON string — `data:image/<type>;base64,` and base64 characters up to
 * the closing quote, no escapes — is taken; anything else stays in the body for JSON.parse, which gives the same
 * value, so the door sees what it would have seen.
 */
export interface Spliced {
  /** The body with each data URL replaced by a placeholder string. */
  readonly rest: Buffer
  /**
   * The parsed rest with the placeholders restored, in place: an image part's kept, with its image in `images`,
   * every other replaced by its data URL; undefined if a placeholder was not a whole string value (a key, say): then
   * the caller parses the whole body instead.
   */
  readonly restore: (
    value: unknown,
  ) => { readonly value: unknown; readonly images: ReadonlyMap<string, DataUrlImage> } | undefined
}

const MARKER = Buffer.from('"data:image/')
const QUOTE = 0x22
const HEAD = /^data:(image\/[A-Za-z0-9.+-]+);base64,/
/** The head is looked for in this many bytes of the URL at most. */
const HEAD_BYTES = 128
const PAYLOAD_CHARS = /^[A-Za-z0-9+/_=-]*$/
/** What readDataUrl takes as a payload: base64 characters, then at most two "=". */
const BASE64_CORE = /^[A-Za-z0-9+/_-]*$/
/** The payload is read in pieces of this many characters (a multiple of 4): small strings, not one large one. */
const PIECE_CHARS = 32 * 1024
/** Per process and unguessable, so no text a client sends can stand for an image. */
const PLACEHOLDER = `stagebeam-data-url-${randomBytes(12).toString("hex")}-`

/** A data URL in the body: where its payload starts and ends, and its MIME type. */
interface Found {
  readonly start: number
  readonly payload: number
  readonly end: number
  readonly mime: string
}

/** Whether every piece of the body's [from, to) matches `pattern` (Latin-1: a byte outside ASCII fails). */
const piecesMatch = (body: Buffer, from: number, to: number, pattern: RegExp) => {
  for (let at = from; at < to; at += PIECE_CHARS)
    if (!pattern.test(body.toString("latin1", at, Math.min(to, at + PIECE_CHARS)))) return false
  return true
}

/**
 * The image of a found data URL, as readDataUrl reads the same URL (same checks, same words): base64 characters and
 * at most two "=" at the end, decoded piece by piece (whole groups of 4 characters, so the bytes are the same).
 */
const imageOf = (body: Buffer, found: Found): DataUrlImage => {
  let core = found.end
  while (core > found.payload && found.end - core < 2 && body[core - 1] === 0x3d) core--
  const notBase64: DataUrlImage = { problem: "is a data: URL whose base64 payload is empty or not base64" }
  if (core === found.payload) return notBase64
  // Exactly the decoded size (every character before the "=" is checked below to be base64), so the image is the
  // whole of its buffer and can be given back once the call has made what it sends (FreeBytes).
  const decoded = Buffer.allocUnsafe(Math.floor(((core - found.payload) * 3) / 4))
  let length = 0
  for (let at = found.payload; at < found.end; at += PIECE_CHARS) {
    const piece = body.toString("latin1", at, Math.min(found.end, at + PIECE_CHARS))
    // The "=" at the end (found.end - core of them) are the last piece's; everything before them must be base64.
    if (!BASE64_CORE.test(at + piece.length > core ? piece.slice(0, Math.max(0, core - at)) : piece)) return notBase64
    length += decoded.write(piece, length, "base64")
  }
  return { mime: found.mime, bytes: decoded.subarray(0, length) }
}

/** Whether `value` under `key` of `parent`'s value is where a chat request reads its image: `image_url.url`. */
const isImageUrl = (key: string | undefined, parentKey: string | undefined) =>
  key === "url" && parentKey === "image_url"

const restoreIn = (
  value: unknown,
  body: Buffer,
  found: ReadonlyArray<Found>,
  restored: { count: number; images: Map<string, DataUrlImage> },
  key?: string,
  parentKey?: string,
): unknown => {
  if (typeof value === "string") {
    const url = value.startsWith(PLACEHOLDER) ? found[Number(value.slice(PLACEHOLDER.length))] : undefined
    if (url === undefined) return value
    restored.count++
    if (isImageUrl(key, parentKey)) {
      restored.images.set(value, imageOf(body, url))
      return value
    }
    return body.toString("latin1", url.start, url.end)
  }
  if (value === null || typeof value !== "object") return value
  const container = value as Record<string, unknown>
  // Only a placeholder is written over: every other value stays as JSON.parse made it.
  for (const inner of Object.keys(container)) {
    const was = container[inner]
    const now = restoreIn(was, body, found, restored, inner, key)
    if (now !== was) container[inner] = now
  }
  return value
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d])
/** Bytes that come before a string that is a value in JSON (after whitespace): not before an escaped quote. */
const BEFORE_VALUE = new Set([0x3a, 0x5b, 0x2c]) // : [ ,

const opensValue = (body: Buffer, quoteAt: number) => {
  let before = quoteAt - 1
  while (before >= 0 && WHITESPACE.has(body[before]!)) before--
  return before >= 0 && BEFORE_VALUE.has(body[before]!)
}

/** The data URL starting at `start` and ending before `end`, if it is one taken (see above). */
const dataUrlAt = (body: Buffer, start: number, end: number): Found | undefined => {
  const head = HEAD.exec(body.toString("latin1", start, Math.min(end, start + HEAD_BYTES)))
  if (head === null) return undefined
  const payload = start + head[0].length
  return piecesMatch(body, payload, end, PAYLOAD_CHARS) ? { start, payload, end, mime: head[1]! } : undefined
}

/** The body's data URLs spliced out, or undefined when it holds none that can be. */
export const spliceDataUrls = (body: Buffer): Spliced | undefined => {
  const pieces: Array<Buffer> = []
  const found: Array<Found> = []
  let from = 0
  let at = body.indexOf(MARKER, from)
  while (at !== -1) {
    const start = at + 1
    const end = body.indexOf(QUOTE, start)
    if (end === -1) break
    const url = opensValue(body, at) ? dataUrlAt(body, start, end) : undefined
    if (url !== undefined) {
      pieces.push(body.subarray(from, start), Buffer.from(`${PLACEHOLDER}${found.length}`))
      found.push(url)
      from = end
    }
    at = body.indexOf(MARKER, end)
  }
  if (found.length === 0) return undefined
  pieces.push(body.subarray(from))
  return {
    rest: Buffer.concat(pieces),
    restore: (value) => {
      const restored = { count: 0, images: new Map<string, DataUrlImage>() }
      const whole = restoreIn(value, body, found, restored)
      return restored.count === found.length ? { value: whole, images: restored.images } : undefined
    },
  }
}
