import { randomUUID } from "node:crypto"
import { Worker } from "node:worker_threads"
import { Effect } from "effect"
import { type DataUrlImage, readDataUrl } from "../images/ImageSource.ts"
import type { ReadBody } from "./RequestBody.ts"
import { spliceDataUrls } from "./SplicedDataUrls.ts"

/**
 * Bodies up to this size are parsed on the event loop (well under a millisecond); larger ones — an inline image, or
 * megabytes of question that the schema will refuse — in a worker thread, so that decoding and parsing tens of
 * megabytes (hundreds of milliseconds on a busy machine) never holds the doors and /metrics.
 */
const ON_LOOP_BYTES = 256 * 1024

/**
 * Data: URLs longer than this are read in the worker (readDataUrl) and come back as bytes, moved, not copied: sent
 * back as a string, a 20 MiB image's 27 MB of base64 cost the event loop ~100 ms to receive and as much again to
 * check and decode (bench/hostile.ts).
 */
const WORKER_DATA_URL_CHARS = 64 * 1024

// A CommonJS worker from source: no file to resolve, whatever runs the gateway (node, vitest). It also finds a
// string longer than the limit (but an image URL, which carries the image): sending tens of megabytes of question
// back would cost the event loop its copy, only for the schema to refuse it. Each long data: URL is replaced by a
// placeholder (the marker and its index, which no caller can guess) and its image sent beside the value.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads")
${readDataUrl.toString()}
const walk = (value, limit, path, found) => {
  if (typeof value === "string") return value.length > limit ? { path, length: value.length } : undefined
  if (value === null || typeof value !== "object") return undefined
  for (const [key, inner] of Object.entries(value)) {
    const at = Array.isArray(value) ? path + "[" + key + "]" : path === "" ? key : path + "." + key
    if (key === "url" && typeof inner === "string") {
      if (inner.length > found.dataUrlChars) {
        const image = readDataUrl(inner)
        if (image !== undefined) {
          const placeholder = found.marker + found.images.length
          found.images.push(image)
          value[key] = placeholder
        }
      }
      continue
    }
    const tooLong = walk(inner, limit, at, found)
    if (tooLong !== undefined) return tooLong
  }
  return undefined
}
// Its own memory, so that it can move to the event loop's thread without a copy.
const movable = (bytes) =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes)
parentPort.on("message", ({ id, blocks, length, limit, marker, dataUrlChars }) => {
  let reply
  const moved = []
  try {
    const bytes = blocks.length === 1 ? Buffer.from(blocks[0]) : Buffer.concat(blocks.map((block) => Buffer.from(block)), length)
    const text = bytes.toString("utf8", 0, length)
    const value = text === "" ? null : JSON.parse(text)
    const found = { marker, dataUrlChars, images: [] }
    const tooLong = walk(value, limit, "", found)
    if (tooLong !== undefined) reply = { id, tooLong }
    else {
      const images = found.images.map((image) => {
        if (image.problem !== undefined) return image
        const bytes = movable(image.bytes)
        moved.push(bytes.buffer)
        return { mime: image.mime, bytes }
      })
      reply = { id, value, images }
    }
  } catch (error) {
    reply = { id, error: String(error && error.message) }
  }
  parentPort.postMessage(reply, moved)
})
`

/** A string of the body longer than the limit: where (OpenAI's `param` spelling) and how long. */
export interface TooLong {
  readonly path: string
  readonly length: number
}

/**
 * A parsed body: its value, and the images of data: URLs read already (long ones off the event loop, spliced ones
 * from the body's bytes), by the placeholder that stands for each in the value (decodeChatRequest takes them from
 * here).
 */
export interface ParsedBody {
  readonly value: unknown
  readonly dataUrls: ReadonlyMap<string, DataUrlImage>
}

type Reply = {
  readonly id: number
  readonly value?: unknown
  readonly images?: ReadonlyArray<DataUrlImage>
  readonly error?: string
  readonly tooLong?: TooLong
}

/** Per process and random: a caller cannot write a placeholder that names another's image. */
const MARKER = `stagebeam-data-url-${randomUUID()}-`

let worker: Worker | undefined
let nextId = 0
const waiting = new Map<number, (reply: Reply) => void>()

/** The one parsing worker, started on first use; it does not keep the process alive. */
const parser = () => {
  if (worker !== undefined) return worker
  const started = new Worker(WORKER_SOURCE, { eval: true })
  started.unref()
  started.on("message", (reply: Reply) => {
    waiting.get(reply.id)?.(reply)
    waiting.delete(reply.id)
  })
  // A worker that fails, or ends without failing, answers whoever waits and is started again for the next body.
  const lost = (why: string) => {
    if (worker === started) worker = undefined
    for (const [id, resume] of waiting) resume({ id, error: `the JSON parser failed: ${why}` })
    waiting.clear()
  }
  started.on("error", (error) => lost(error.message))
  started.on("exit", (code) => lost(`its thread ended (exit code ${code})`))
  worker = started
  return started
}

const NO_DATA_URLS: ReadonlyMap<string, DataUrlImage> = new Map()

/** The body's bytes as one Buffer: a view when it was read into one block (the usual case, by its Content-Length). */
const joined = (body: ReadBody): Buffer =>
  body.blocks.length === 1
    ? Buffer.from(body.blocks[0]!, 0, body.length)
    : Buffer.concat(
        body.blocks.map((block) => new Uint8Array(block)),
        body.length,
      )

const parseBytes = (bytes: Buffer) =>
  Effect.try({
    try: (): ParsedBody => {
      const text = bytes.toString("utf8")
      return { value: text === "" ? null : (JSON.parse(text) as unknown), dataUrls: NO_DATA_URLS }
    },
    catch: (error) => (error instanceof Error ? error.message : String(error)),
  })

const parseHere = (body: ReadBody) => parseBytes(joined(body))

const parseInWorker = (body: ReadBody, maxStringChars: number) =>
  Effect.callback<ParsedBody, string | TooLong>((resume) => {
    const id = nextId++
    waiting.set(id, (reply) =>
      resume(
        reply.error !== undefined
          ? Effect.fail(reply.error)
          : reply.tooLong !== undefined
            ? Effect.fail(reply.tooLong)
            : Effect.succeed({
                value: reply.value,
                dataUrls: new Map((reply.images ?? []).map((image, i) => [`${MARKER}${i}`, image])),
              }),
      ),
    )
    // The blocks move to the worker (no copy); the parsed value comes back as a structured clone, long images moved.
    try {
      parser().postMessage(
        {
          id,
          blocks: body.blocks,
          length: body.length,
          limit: maxStringChars,
          marker: MARKER,
          dataUrlChars: WORKER_DATA_URL_CHARS,
        },
        [...body.blocks],
      )
    } catch (error) {
      waiting.delete(id)
      resume(
        Effect.fail(`the JSON parser could not be reached: ${error instanceof Error ? error.message : String(error)}`),
      )
    }
    return Effect.sync(() => {
      waiting.delete(id)
    })
  })

/**
 * Bodies between these sizes have their images spliced out (SplicedDataUrls): below, there is nothing worth it;
 * above, making the image's string (~3.5 ms per MB here) and then checking and decoding it (readDataUrl) would hold the event loop longer than the worker's round trip,
 * which reads long data: URLs into bytes off the loop.
 */
const SPLICE_FROM_BYTES = 16 * 1024
const SPLICE_UP_TO_BYTES = 1024 * 1024

const parseWhole = (body: ReadBody, maxStringChars: number) =>
  body.length <= ON_LOOP_BYTES ? parseHere(body) : parseInWorker(body, maxStringChars)

/**
 * A request body as JSON; fails with the parser's words. Inline images' data URLs are spliced out first and put back
 * after (SplicedDataUrls); a body still large is parsed off the event loop, and one holding a string longer than
 * `maxStringChars` (image URLs aside) fails with where it is (the schema would refuse it). Whatever fails spliced is
 * parsed whole, so errors name positions in the body as sent.
 */
export const parseJsonBody = (body: ReadBody, maxStringChars: number): Effect.Effect<ParsedBody, string | TooLong> => {
  const spliced =
    body.length < SPLICE_FROM_BYTES || body.length > SPLICE_UP_TO_BYTES ? undefined : spliceDataUrls(joined(body))
  if (spliced === undefined || spliced.rest.byteLength > ON_LOOP_BYTES) return parseWhole(body, maxStringChars)
  return parseBytes(spliced.rest).pipe(
    Effect.map((parsed) => spliced.restore(parsed.value)),
    Effect.catch(() => Effect.succeed(undefined)),
    Effect.flatMap((restored) =>
      restored === undefined
        ? parseWhole(body, maxStringChars)
        : Effect.succeed({ value: restored.value, dataUrls: restored.images }),
    ),
  )
}
