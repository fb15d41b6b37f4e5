import { assert, describe, it } from "@effect/vitest"
import type * as grpc from "@grpc/grpc-js"
import type { MethodDefinition } from "@grpc/proto-loader"
import { Effect, Exit, Metric, Stream } from "effect"
import { typedClient, withCallMetrics } from "../src/index.ts"
import {
  type CountEvent,
  type CountRequest,
  echoImplementation,
  echoService,
  type SayReply,
  type SayRequest,
  startEcho,
} from "./fixtures/echo.ts"

/** What proto-loader-gen-types would generate for the echo fixture. */
interface EchoDefinition extends grpc.ServiceDefinition {
  readonly Say: MethodDefinition<SayRequest, SayReply, SayRequest, SayReply>
  readonly Count: MethodDefinition<CountRequest, CountEvent, CountRequest, CountEvent>
}

describe("typedClient", () => {
  it.live("calls each method with the request and answer types of the generated definition", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      const echo = yield* typedClient<EchoDefinition>()(client, { Say: "unary", Count: "serverStream" })
      const reply = yield* echo.Say({ text: "hello", mode: "ok" })
      assert.strictEqual(reply.text, "hello")
      const events = yield* Stream.runCollect(echo.Count({ n: 3, payload_bytes: 1, mode: "ok" }))
      assert.deepStrictEqual(
        events.map((event) => event.seq),
        [1, 2, 3],
      )
    }),
  )

  it.live("refuses a kind that contradicts the proto", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      const exit = yield* Effect.exit(
        typedClient<EchoDefinition>()(client, { Say: "serverStream", Count: "serverStream" }),
      )
      assert.isTrue(Exit.hasDies(exit))
    }),
  )
})

describe("withCallMetrics", () => {
  it.live("counts every call by method and outcome and times it", () =>
    Effect.gen(function* () {
      const calls = Metric.counter("test_echo_calls_total")
      const duration = Metric.histogram("test_echo_duration_seconds", {
        boundaries: Metric.linearBoundaries({ start: 0.1, width: 0.1, count: 10 }),
      })
      const { client } = yield* startEcho({
        services: [{ name: echoService, implementation: withCallMetrics(echoImplementation, { calls, duration }) }],
      })
      yield* client.unary("Say", { text: "a", mode: "ok" })
      yield* client.unary("Say", { text: "b", mode: "ok" })
      yield* Effect.flip(client.unary("Say", { text: "", mode: "fail" }))
      yield* Stream.runCollect(client.serverStream("Count", { n: 2, payload_bytes: 1, mode: "ok" }))
      const count = (method: string, outcome: string) =>
        Effect.map(Metric.value(Metric.withAttributes(calls, { method, outcome })), (state) => state.count)
      assert.strictEqual(yield* count("Say", "OK"), 2)
      assert.strictEqual(yield* count("Say", "INVALID_ARGUMENT"), 1)
      assert.strictEqual(yield* count("Count", "OK"), 1)
      const timed = yield* Metric.value(Metric.withAttributes(duration, { method: "Say" }))
      assert.strictEqual(timed.count, 3)
    }),
  )
})
