import { assert, describe, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Deferred, Effect, Ref, Stream } from "effect"
import { type CountEvent, type CountRequest, startEcho } from "./fixtures/echo.ts"

const count = (n: number, mode: CountRequest["mode"] = "ok", payload_bytes = 8): CountRequest => ({
  n,
  payload_bytes,
  mode,
})

describe("server-streaming handlers", () => {
  it.live("delivers events in order and ends the call", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      const events = yield* Stream.runCollect(client.serverStream<CountRequest, CountEvent>("Count", count(50)))
      assert.deepStrictEqual(
        events.map((event) => event.seq),
        Array.from({ length: 50 }, (_, i) => i + 1),
      )
      assert.strictEqual(events[0]?.payload.length, 8)
    }),
  )

  it.live("sends the failure status after the events already produced", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      const seen: Array<number> = []
      const error = yield* client.serverStream<CountRequest, CountEvent>("Count", count(3, "fail_after")).pipe(
        Stream.runForEach((event) => Effect.sync(() => seen.push(event.seq))),
        Effect.flip,
      )
      assert.deepStrictEqual(seen, [1, 2, 3])
      assert.strictEqual(error.code, grpc.status.RESOURCE_EXHAUSTED)
      assert.strictEqual(error.message, "out of tokens")
    }),
  )

  it.live("answers INTERNAL when the stream dies, after the events already sent", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      const seen: Array<number> = []
      const error = yield* client.serverStream<CountRequest, CountEvent>("Count", count(2, "defect_after")).pipe(
        Stream.runForEach((event) => Effect.sync(() => seen.push(event.seq))),
        Effect.flip,
      )
      assert.deepStrictEqual(seen, [1, 2])
      assert.strictEqual(error.code, grpc.status.INTERNAL)
      assert.strictEqual(error.message, "internal error")
    }),
  )

  it.live("interrupts the handler when the client stops reading", () =>
    Effect.gen(function* () {
      const { client, probe } = yield* startEcho()
      const firstTwo = yield* Stream.runCollect(
        client.serverStream<CountRequest, CountEvent>("Count", count(2, "hang_after")).pipe(Stream.take(2)),
      )
      assert.deepStrictEqual(
        firstTwo.map((event) => event.seq),
        [1, 2],
      )
      const interruptedPath = yield* Deferred.await(probe.interrupted).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(interruptedPath, "/fixture.v1.Echo/Count")
    }),
  )

  it.live("interrupts the handler when the stream's deadline passes", () =>
    Effect.gen(function* () {
      const { client, probe } = yield* startEcho()
      const error = yield* client
        .serverStream<CountRequest, CountEvent>("Count", count(1, "hang_after"), { deadline: "1 second" })
        .pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(error.code, grpc.status.DEADLINE_EXCEEDED)
      yield* Deferred.await(probe.interrupted).pipe(Effect.timeout("5 seconds"))
    }),
  )

  it.live("a slow reader holds the producer back without losing or duplicating events", () =>
    Effect.gen(function* () {
      const { client, probe } = yield* startEcho()
      const total = 2_000
      // 16 KiB events: 32 MiB in all, far beyond what HTTP/2 flow-control windows and stream buffers hold
      const received: Array<number> = []
      let producedWhileReaderPaused = -1
      yield* client.serverStream<CountRequest, CountEvent>("Count", count(total, "ok", 16 * 1024)).pipe(
        Stream.runForEach((event) =>
          Effect.gen(function* () {
            received.push(event.seq)
            if (event.seq === 1) {
              // The pause gives an unbounded writer time to run ahead; a bounded one stays blocked on 'drain'.
              yield* Effect.sleep("300 millis")
              producedWhileReaderPaused = yield* Ref.get(probe.produced)
            }
          }),
        ),
      )
      console.log(`back-pressure: ${producedWhileReaderPaused} of ${total} events produced while the reader paused`)
      assert.isAbove(producedWhileReaderPaused, 0)
      assert.isBelow(producedWhileReaderPaused, total / 2)
      assert.strictEqual(received.length, total)
      assert.deepStrictEqual(
        received,
        Array.from({ length: total }, (_, i) => i + 1),
      )
    }),
  )
})
