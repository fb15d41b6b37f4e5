import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Metric, Redacted, Ref } from "effect"
import { TestClock } from "effect/testing"
import type { ChatCompletion } from "../src/ChatCompletion.ts"
import { UpstreamError } from "../src/FleetError.ts"
import { keyRetries } from "../src/FleetMetrics.ts"
import { OpenAiClient } from "../src/OpenAiClient.ts"
import { makePool, type PoolOptions } from "../src/Pool.ts"

const completion: ChatCompletion = {
  id: "cmpl",
  model: "m",
  choices: [{ index: 0, message: { content: "ok" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1 },
}

/**
 * One server that takes only `accepted`'s key (401 otherwise); every key a call carried is recorded. With `gate`,
 * a call is answered once it opens.
 */
const server = (accepted: Ref.Ref<string>, carried: Array<string | undefined>, gate?: Deferred.Deferred<void>) =>
  Layer.succeed(
    OpenAiClient,
    OpenAiClient.of({
      chat: ({ server, apiKey }) =>
        Effect.gen(function* () {
          const key = apiKey === undefined ? undefined : Redacted.value(apiKey)
          carried.push(key)
          if (gate !== undefined) yield* Deferred.await(gate)
          if (key !== (yield* Ref.get(accepted))) {
            return yield* new UpstreamError({ pool: "judge", server, kind: "status", status: 401, message: "bad key" })
          }
          return completion
        }),
      post: () => Effect.die("unused"),
      health: () => Effect.succeed(true),
      serverLoad: () => Effect.succeed(undefined),
      get: () => Effect.succeed(undefined),
    }),
  )

/** A key file as the gateway reads it: each read counted (a read stats the file). */
const keySource = Effect.fnUntraced(function* () {
  const file = yield* Ref.make("first")
  const reads = yield* Ref.make(0)
  const source = Effect.andThen(
    Ref.update(reads, (n) => n + 1),
    Effect.map(Ref.get(file), Redacted.make),
  )
  return { file, reads, source }
})

/** Key retries counted so far for the test's pool (the counter is the process's: tests compare before and after). */
const keyRetriesCounted = Effect.map(
  Metric.value(Metric.withAttributes(keyRetries, { pool: "judge" })),
  (state) => state.count,
)

const options = (source: PoolOptions["apiKey"]): PoolOptions => ({
  name: "judge",
  endpoints: ["http://a"],
  model: "m",
  apiKey: source,
  apiKeyRefresh: Duration.seconds(1),
  requestTimeout: Duration.seconds(5),
  maxAttempts: 3,
  failureThreshold: 5,
  cooldown: Duration.seconds(30),
  // Probes read the source on their own schedule: far apart here, so only the calls' reads are counted.
  healthInterval: Duration.hours(1),
  metricsInterval: Duration.seconds(10),
})

describe("a pool's key file, off the call path", () => {
  it.effect("calls carry the last key read; the file is read again on the refresh schedule, not per call", () =>
    Effect.gen(function* () {
      const { file, reads, source } = yield* keySource()
      const accepted = yield* Ref.make("first")
      const carried: Array<string | undefined> = []
      const pool = yield* makePool(options(source)).pipe(Effect.provide(server(accepted, carried)))
      const before = yield* Ref.get(reads)
      for (const label of ["1", "2", "3", "4", "5"]) yield* pool.complete({ messages: [] }, { label })
      assert.strictEqual(yield* Ref.get(reads), before, "no read of the key's source per call")

      // Rotated, and both keys still accepted for a while (as a rotation does): the next refresh picks it up.
      yield* Ref.set(file, "second")
      yield* Ref.set(accepted, "second")
      yield* TestClock.adjust(Duration.seconds(1))
      yield* pool.complete({ messages: [] }, { label: "6" })
      assert.deepStrictEqual(carried, ["first", "first", "first", "first", "first", "second"])
    }),
  )

  it.effect("a server refusing the key has the file read at once and the call tried once more with the new key", () =>
    Effect.gen(function* () {
      const { file, source } = yield* keySource()
      const accepted = yield* Ref.make("first")
      const carried: Array<string | undefined> = []
      const pool = yield* makePool(options(source)).pipe(Effect.provide(server(accepted, carried)))
      yield* pool.complete({ messages: [] }, { label: "1" })
      const before = yield* keyRetriesCounted
      // The server switched to the new key before the pool's next refresh.
      yield* Ref.set(file, "second")
      yield* Ref.set(accepted, "second")
      const answered = yield* pool.complete({ messages: [] }, { label: "2" })
      assert.strictEqual(answered.server, "http://a")
      assert.deepStrictEqual(carried, ["first", "first", "second"])
      assert.strictEqual((yield* keyRetriesCounted) - before, 1, "the retry is counted")
      // A refusal with no new key in the file stands: one try, the 401 to the caller.
      yield* Ref.set(accepted, "third")
      const refused = yield* Effect.flip(pool.complete({ messages: [] }, { label: "3" }))
      assert.strictEqual(refused._tag === "UpstreamError" ? refused.status : undefined, 401)
      assert.deepStrictEqual(carried, ["first", "first", "second", "second"])
      assert.strictEqual((yield* keyRetriesCounted) - before, 1, "a refusal that stands is no retry")
    }),
  )

  it.effect("every call in flight with the old key is tried again with the new one, not only the first refused", () =>
    Effect.gen(function* () {
      const { file, source } = yield* keySource()
      const accepted = yield* Ref.make("first")
      const carried: Array<string | undefined> = []
      const gate = yield* Deferred.make<void>()
      const pool = yield* makePool(options(source)).pipe(Effect.provide(server(accepted, carried, gate)))
      const calls = yield* Effect.forEach(["1", "2", "3"], (label) =>
        Effect.forkChild(pool.complete({ messages: [] }, { label })),
      )
      yield* Effect.yieldNow
      yield* Ref.set(file, "second")
      yield* Ref.set(accepted, "second")
      yield* Deferred.succeed(gate, undefined)
      const answers = yield* Effect.forEach(calls, Fiber.join)
      assert.strictEqual(answers.length, 3)
      assert.deepStrictEqual(carried, ["first", "first", "first", "second", "second", "second"])
    }),
  )
})
