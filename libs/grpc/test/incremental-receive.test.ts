import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { grpcStreamDecoder, installIncrementalReceive } from "../src/IncrementalReceive.ts"
import type { CountEvent, CountRequest, SayReply, SayRequest } from "./fixtures/echo.ts"
import { startEcho } from "./fixtures/echo.ts"

const framed = (payload: Uint8Array, flag = 0) => {
  const frame = Buffer.alloc(5 + payload.length)
  frame[0] = flag
  frame.writeUInt32BE(payload.length, 1)
  frame.set(payload, 5)
  return frame
}

/** What a decoder yields for `wire` written in pieces of the sizes `cuts` gives, round and round. */
const writeInCuts = (
  decoder: { write: (data: Buffer) => Array<Buffer> },
  wire: Buffer,
  cuts: ReadonlyArray<number>,
): Array<Buffer> => {
  const out: Array<Buffer> = []
  for (let at = 0, i = 0; at < wire.length; i++) {
    const size = cuts[i % cuts.length]!
    out.push(...decoder.write(wire.subarray(at, at + size)))
    at += size
  }
  return out
}

describe("the incremental receive (grpc-js's message decoder, copying each chunk as it arrives)", () => {
  it("is in place of grpc-js's join, and yields the same framed messages however the bytes are cut", () => {
    assert.isTrue(installIncrementalReceive())
    const StreamDecoder = grpcStreamDecoder()!
    assert.strictEqual(StreamDecoder.prototype.write.name, "incrementalWrite")
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 }),
        (payloads, cuts) => {
          const frames = payloads.map((payload, i) => framed(payload, i % 2))
          const wire = Buffer.concat(frames)
          const out = writeInCuts(new StreamDecoder(-1), wire, cuts)
          return out.length === frames.length && out.every((message, i) => message.equals(frames[i]!))
        },
      ),
    )
  })

  it("holds at most its first MiB for a length prefix sent alone, and grows to the whole message as it arrives", () => {
    installIncrementalReceive()
    const StreamDecoder = grpcStreamDecoder()!
    const alone = new StreamDecoder(-1) as unknown as { write: (data: Buffer) => Array<Buffer> } & {
      incrementalMessage?: Buffer
    }
    alone.write(Buffer.from([0, 0x01, 0xe0, 0, 0])) // 30 MiB declared, nothing sent
    assert.isAtMost(alone.incrementalMessage!.length, 1024 * 1024 + 5)
    const payload = Buffer.from(Array.from({ length: 2.5 * 1024 * 1024 }, (_, i) => (i * 31) % 251))
    const frame = framed(payload, 1)
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700_000 }), { minLength: 1, maxLength: 12 }), (cuts) => {
        const out = writeInCuts(new StreamDecoder(-1), frame, cuts)
        return out.length === 1 && out[0]!.equals(frame)
      }),
      { numRuns: 20 },
    )
  })

  it("refuses a length prefix over the limit before any payload, in grpc-js's words", () => {
    installIncrementalReceive()
    const decoder = new (grpcStreamDecoder()!)(1024)
    assert.throws(() => decoder.write(Buffer.from([0, 0, 0, 8, 0])), "Received message larger than max (2048 vs 1024)")
  })

  it.live("carries multi-megabyte requests and replies whole through a real server and client", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      const text = Array.from({ length: 6 * 1024 * 1024 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join("")
      const reply = yield* client.unary<SayRequest, SayReply>("Say", { text, mode: "ok" })
      assert.strictEqual(reply.text.length, text.length)
      assert.isTrue(reply.text === text)
      const events = yield* Stream.runCollect(
        client.serverStream<CountRequest, CountEvent>("Count", { n: 3, payload_bytes: 5 * 1024 * 1024, mode: "ok" }),
      )
      assert.deepStrictEqual(
        events.map((event) => [event.seq, event.payload.length, event.payload[event.payload.length - 1]]),
        [
          [1, 5 * 1024 * 1024, 1],
          [2, 5 * 1024 * 1024, 2],
          [3, 5 * 1024 * 1024, 3],
        ],
      )
    }),
  )

  it.live("still answers RESOURCE_EXHAUSTED for a request over the server's receive limit", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho({ maxReceiveMessageBytes: 64 * 1024 })
      const error = yield* Effect.flip(
        client.unary<SayRequest, SayReply>("Say", { text: "x".repeat(100_000), mode: "ok" }),
      )
      assert.strictEqual(error.statusName, "RESOURCE_EXHAUSTED")
      const ok = yield* client.unary<SayRequest, SayReply>("Say", { text: "fits", mode: "ok" })
      assert.strictEqual(ok.text, "fits")
    }),
  )
})
