import { Worker } from "node:worker_threads"
import { Effect } from "effect"

/**
 * Bodies up to this size are parsed on the event loop (well under a millisecond); larger ones — an inline image, or
 * megabytes of question that the schema will refuse — in a worker thread, so that decoding and parsing tens of
 * megabytes (hundreds of milliseconds on a busy machine) never holds the doors and /metrics.
 */
const ON_LOOP_BYTES = 256 * 1024

// A CommonJS worker from source: no file to resolve, whatever runs the gateway (node, vitest).
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads")
parentPort.on("message", ({ id, bytes }) => {
  let reply
  try {
    const text = Buffer.from(bytes).toString("utf8")
    reply = { id, value: text === "" ? null : JSON.parse(text) }
  } catch (error) {
    reply = { id, error: String(error && error.message) }
  }
  parentPort.postMessage(reply)
})
`

type Reply = { readonly id: number; readonly value?: unknown; readonly error?: string }

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

const parseHere = (bytes: ArrayBuffer) =>
  Effect.try({
    try: () => {
      const text = Buffer.from(bytes).toString("utf8")
      return text === "" ? null : (JSON.parse(text) as unknown)
    },
    catch: (error) => (error instanceof Error ? error.message : String(error)),
  })

const parseInWorker = (bytes: ArrayBuffer) =>
  Effect.callback<unknown, string>((resume) => {
    const id = nextId++
    waiting.set(id, (reply) =>
      resume(reply.error === undefined ? Effect.succeed(reply.value) : Effect.fail(reply.error)),
    )
    // The bytes move to the worker (no copy); the parsed value comes back as a structured clone.
    parser().postMessage({ id, bytes }, [bytes])
    return Effect.sync(() => {
      waiting.delete(id)
    })
  })

/** A request body as JSON; fails with the parser's words. Large bodies are parsed off the event loop. */
export const parseJsonBody = (bytes: ArrayBuffer): Effect.Effect<unknown, string> =>
  bytes.byteLength <= ON_LOOP_BYTES ? parseHere(bytes) : parseInWorker(bytes)
