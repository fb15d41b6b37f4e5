import { Effect, Stream } from "effect"
import type { HttpServerRequest } from "effect/http"

/**
 * A request body as it was read: blocks of its own memory (each an ArrayBuffer of its own, so they can move to the
 * parsing worker without a copy) holding `length` bytes in order.
 */
export interface ReadBody {
  readonly blocks: ReadonlyArray<ArrayBuffer>
  readonly length: number
}

/** Why a body was not read: longer than the limit (by its Content-Length, or as it arrived), or the read failed. */
export type BodyProblem = "too-large" | "unreadable"

/** At most this much of a body is copied in one turn of the event loop. */
const COPY_PER_TURN = 512 * 1024

/** Where a body's chunks go (`take`: false once over the limit), and how much was copied since the last yield. */
interface Copying {
  readonly take: (chunk: Uint8Array) => boolean
  sinceYield: number
}

/**
 * Copies chunks that queued while the loop was busy (they come as one array), 512 kB per turn of the loop (into
 * fresh pages: ~10 ms a MB on a busy shared VM). A chunk can be MBs (what queued, joined by the stream): copied in
 * slices. Made once, not per body (a generator function made per call keeps the call's objects until a mark-compact:
 * HttpGateway's recordCall).
 */
const copyChunks = Effect.fnUntraced(function* (chunks: ReadonlyArray<Uint8Array>, copying: Copying) {
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length; at += COPY_PER_TURN) {
      if (!copying.take(chunk.subarray(at, at + COPY_PER_TURN))) return yield* Effect.fail("too-large" as const)
      copying.sinceYield += Math.min(COPY_PER_TURN, chunk.length - at)
      if (copying.sinceYield >= COPY_PER_TURN) {
        copying.sinceYield = 0
        yield* Effect.yieldNow
      }
    }
  }
})

/** Without a Content-Length (chunked), the body is kept in blocks of this size. */
const BLOCK_BYTES = 1024 * 1024

/**
 * Reads a body of at most `maxBytes`. A Content-Length over the limit is refused before a byte is read; otherwise each
 * chunk is copied as it arrives into blocks of 1 MiB (the last cut to the declared length), so no event-loop turn
 * joins megabytes at once. Joining a 20 MB body in one `Buffer.concat`, as the HTTP adapter's `arrayBuffer`
 * does, touched 20 MB of fresh pages in one turn: 60–90 ms on a shared 2-core VM (bench/hostile.ts).
 */
export const readBody = (
  request: HttpServerRequest.HttpServerRequest,
  maxBytes: number,
): Effect.Effect<ReadBody, BodyProblem> =>
  Effect.suspend(() => {
    const header = request.headers["content-length"]
    const declared = header === undefined || !/^\d+$/.test(header) ? undefined : Number(header)
    if (declared !== undefined && declared > maxBytes) return Effect.fail("too-large" as const)
    const blocks: Array<Buffer> = []
    let length = 0
    let filled = 0 // of the last block
    const take = (chunk: Uint8Array): boolean => {
      if (length + chunk.length > maxBytes) return false
      let at = 0
      while (at < chunk.length) {
        let block = blocks[blocks.length - 1]
        if (block === undefined || filled === block.length) {
          // 1 MiB at a time, the last block cut to the declared length: a Content-Length is only what the client
          // says, so a client that declares the limit and sends a byte holds 1 MiB, not the limit.
          const declaredLeft = declared === undefined ? 0 : declared - (length + at)
          const size = declaredLeft > 0 ? Math.min(declaredLeft, BLOCK_BYTES) : BLOCK_BYTES
          block = Buffer.allocUnsafeSlow(size)
          blocks.push(block)
          filled = 0
        }
        const size = Math.min(block.length - filled, chunk.length - at)
        block.set(chunk.subarray(at, at + size), filled)
        filled += size
        at += size
      }
      length += chunk.length
      return true
    }
    const copying: Copying = { take, sinceYield: 0 }
    return request.stream.pipe(
      Stream.mapError(() => "unreadable" as const),
      Stream.runForEachArray((chunks) => copyChunks(chunks, copying)),
      Effect.map(() => ({
        blocks: blocks.map((block, i) =>
          i === blocks.length - 1 && filled < block.length
            ? (block.buffer.slice(block.byteOffset, block.byteOffset + filled) as ArrayBuffer)
            : (block.buffer as ArrayBuffer),
        ),
        length,
      })),
    )
  })
