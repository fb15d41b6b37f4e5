// Measures the adapter end to end on 127.0.0.1 (real grpc-js server and client) and prints the figures.
// Run: node libs/grpc/bench/roundtrip.ts
import { performance } from "node:perf_hooks"
import { Effect, Stream } from "effect"
import { type CountEvent, type CountRequest, type SayReply, type SayRequest, startEcho } from "../test/fixtures/echo.ts"

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const started = performance.now()
    const value = yield* effect
    return { value, millis: performance.now() - started }
  })

const program = Effect.gen(function* () {
  const { client } = yield* startEcho()
  const say = client.unary<SayRequest, SayReply>("Say", { text: "hello", mode: "ok" })
  yield* Effect.repeat(say, { times: 200 }) // warm-up

  const sequentialCalls = 2_000
  const sequential = yield* timed(Effect.repeat(say, { times: sequentialCalls - 1 }))
  console.log(
    `unary sequential: ${sequentialCalls} calls, ${((sequential.millis * 1000) / sequentialCalls).toFixed(0)} µs/call`,
  )

  const concurrentCalls = 10_000
  const concurrent = yield* timed(
    Effect.forEach(Array.from({ length: concurrentCalls }), () => say, { concurrency: 64 }),
  )
  console.log(
    `unary concurrency 64: ${concurrentCalls} calls, ${((concurrentCalls / concurrent.millis) * 1000).toFixed(0)} calls/s`,
  )

  const countEvents = (n: number, payload_bytes: number) =>
    Stream.runCount(client.serverStream<CountRequest, CountEvent>("Count", { n, payload_bytes, mode: "ok" }))
  const small = yield* timed(countEvents(50_000, 64))
  console.log(`stream 64 B events: ${small.value} events, ${((small.value / small.millis) * 1000).toFixed(0)} events/s`)
  const large = yield* timed(countEvents(2_000, 64 * 1024))
  const mebibytes = (large.value * 64) / 1024
  console.log(
    `stream 64 KiB events: ${mebibytes.toFixed(0)} MiB, ${((mebibytes / large.millis) * 1000).toFixed(0)} MiB/s`,
  )
}).pipe(Effect.scoped)

await Effect.runPromise(program)
