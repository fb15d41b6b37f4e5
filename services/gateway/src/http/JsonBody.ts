import { Worker } from "node:worker_threads"
import { Effect } from "effect"
import { spliceDataUrls } from "./SplicedDataUrls.ts"

/**
 * Bodies up to this size are parsed on the event loop (well under a millisecond); larger ones — an inline image, or
 * megabytes of question that the schema will refuse — in a worker thread, so that decoding and parsing tens of
 * megabytes (hundreds of milliseconds on a busy machine) never holds the doors and /metrics.
 */
const ON_LOOP_BYTES = 256 * 1024

// A CommonJS worker from source: no file to resolve, whatever runs the gateway (node, vitest). It also finds a
// string longer than the limit (but an image URL, which carries the image): sending tens of megabytes of question
// back would cost the event loop its copy, only for the schema to refuse it.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads")
const longest = (value, limit, path) => {
  if (typeof value === "string") return value.length > limit ? { path, length: value.length } : undefined
  if (value === null || typeof value !== "object") return undefined
  for (const [key, inner] of Object.entries(value)) {
    if (key === "url" && typeof inner === "string") continue
    const found = longest(inner, limit, Array.isArray(value) ? path + "[" + key + "]" : path === "" ? key : path + "." + key)
    if (found !== undefined) return found
  }
  return undefined
}
parentPort.on("message", ({ id, bytes, limit }) => {
  let reply
  try {
    const text = Buffer.from(bytes).toString("utf8")
    const value = text === "" ? null : JSON.parse(text)
    const tooLong = longest(value, limit, "")
    reply = tooLong === undefined ? { id, value } : { id, tooLong }
  } catch (error) {
    reply = { id, error: String(error && error.message) }
  }
  parentPort.postMessage(reply)
})
`

/** A string of the body longer than the limit: where (OpenAI's `param` spelling) and how long. */
export interface TooLong {
  readonly path: string
  readonly length: number
}

type Reply = {
  readonly id: number
  readonly value?: unknown
  readonly error?: string
  readonly tooLong?: TooLong
}

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
  started.on("error", (error) => {
    for (const [id, resume] of waiting) resume({ id, error: `the JSON parser failed: ${error.message}` })
    waiting.clear()
    worker = undefined
  })
  worker = started
  return started
}

const parseHere = (bytes: ArrayBuffer | Buffer) =>
  Effect.try({
    try: () => {
      const text = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes as ArrayBuffer)).toString("utf8")
      return text === "" ? null : (JSON.parse(text) as unknown)
    },
    catch: (error) => (error instanceof Error ? error.message : String(error)),
  })

const parseInWorker = (bytes: ArrayBuffer, maxStringChars: number) =>
  Effect.callback<unknown, string | TooLong>((resume) => {
    const id = nextId++
    waiting.set(id, (reply) =>
      resume(
        reply.error !== undefined
          ? Effect.fail(reply.error)
          : reply.tooLong !== undefined
            ? Effect.fail(reply.tooLong)
            : Effect.succeed(reply.value),
      ),
    )
    // The bytes move to the worker (no copy); the parsed value comes back as a structured clone.
    parser().postMessage({ id, bytes, limit: maxStringChars }, [bytes])
    return Effect.sync(() => {
      waiting.delete(id)
    })
  })

/**
 * Bodies between these sizes have their images spliced out (SplicedDataUrls): below, there is nothing worth it;
 * above, making the image's string (~3.5 ms per MB here) would hold the event loop longer than the worker's round trip.
 */
const SPLICE_FROM_BYTES = 16 * 1024
const SPLICE_UP_TO_BYTES = 4 * 1024 * 1024

const parseWhole = (bytes: ArrayBuffer, maxStringChars: number) =>
  bytes.byteLength <= ON_LOOP_BYTES ? parseHere(bytes) : parseInWorker(bytes, maxStringChars)

/**
 * A request body as JSON; fails with the parser's words. Inline images' data URLs are spliced out first and put back
 * after (SplicedDataUrls); a body still large is parsed off the event loop, and one holding a string longer than
 * `maxStringChars` (image URLs aside) fails with where it is (the schema would refuse it). Whatever fails spliced is
 * parsed whole, so errors name positions in the body as sent.
 */
export const parseJsonBody = (bytes: ArrayBuffer, maxStringChars: number): Effect.Effect<unknown, string | TooLong> => {
  const spliced =
    bytes.byteLength < SPLICE_FROM_BYTES || bytes.byteLength > SPLICE_UP_TO_BYTES
      ? undefined
      : spliceDataUrls(Buffer.from(bytes))
  if (spliced === undefined || spliced.rest.byteLength > ON_LOOP_BYTES) return parseWhole(bytes, maxStringChars)
  return parseHere(spliced.rest).pipe(
    Effect.map(spliced.restore),
    Effect.catch(() => Effect.succeed(undefined)),
    Effect.flatMap((restored) =>
      restored === undefined ? parseWhole(bytes, maxStringChars) : Effect.succeed(restored.value),
    ),
  )
}
