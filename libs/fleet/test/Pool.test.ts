import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Redacted, Ref } from "effect"
import { MaxOpsBeforeYield } from "effect/Scheduler"
import type { ChatCompletion, ChatRequest } from "../src/ChatCompletion.ts"
import { UpstreamError } from "../src/FleetError.ts"
import { type HttpAnswer, OpenAiClient } from "../src/OpenAiClient.ts"
import { makePool, type PoolOptions } from "../src/Pool.ts"

const completion = (text: string): ChatCompletion => ({
  id: "cmpl",
  model: "m",
  choices: [{ index: 0, message: { content: text }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1 },
})

type Behaviour = (url: string, request: ChatRequest) => Effect.Effect<ChatCompletion, UpstreamError>

/** An in-memory fleet: each call is recorded, and answered by `behaviour`. */
const fakeClient = (
  behaviour: Behaviour,
  calls: Ref.Ref<ReadonlyArray<string>>,
  healthy = (_url: string) => true,
  reporting = (_url: string) => false,
  answer: (url: string, path: string) => HttpAnswer | undefined = () => undefined,
  keys: Array<string | undefined> = [],
) =>
  Layer.succeed(
    OpenAiClient,
    OpenAiClient.of({
      chat: ({ server, apiKey }, request) =>
        Ref.update(calls, (all) => [...all, server]).pipe(
          Effect.tap(() => Effect.sync(() => keys.push(apiKey === undefined ? undefined : Redacted.value(apiKey)))),
          Effect.andThen(behaviour(server, request)),
        ),
      // Non-chat routes answer as the chat behaviour does, with the path and body echoed.
      post: ({ server }, path, body) =>
        Ref.update(calls, (all) => [...all, server]).pipe(
          Effect.andThen(behaviour(server, { messages: [] })),
          Effect.as({ path, body }),
        ),
      health: ({ server }) => Effect.succeed(healthy(server)),
      serverLoad: (url) => Effect.succeed(reporting(url) ? { running: 30, waiting: 40, kvUsage: 0.5 } : undefined),
      get: ({ server }, path) => Effect.succeed(answer(server, path)),
    }),
  )

/** /version and /v1/models of a vLLM server serving `served`. */
const vllmServing =
  (served: (url: string) => string) =>
  (url: string, path: string): HttpAnswer | undefined =>
    path === "/version"
      ? { status: 200, json: { version: "0.10.2" } }
      : { status: 200, json: { data: [{ id: served(url), owned_by: "vllm", max_model_len: 8192 }] } }

const options = (endpoints: ReadonlyArray<string>): PoolOptions => ({
  name: "generator",
  endpoints,
  model: "m",
  requestTimeout: Duration.seconds(5),
  maxAttempts: 3,
  failureThreshold: 2,
  cooldown: Duration.seconds(30),
  healthInterval: Duration.seconds(10),
  metricsInterval: Duration.seconds(10),
})

const failing = (url: string, status: number) =>
  new UpstreamError({ pool: "generator", server: url, kind: "status", status, message: "boom" })

describe("Pool", () => {
  it.live("fails over to another server on a retryable error", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      const behaviour: Behaviour = (url) =>
        url === "http://a" ? Effect.fail(failing(url, 503)) : Effect.succeed(completion(url))
      const pool = yield* makePool(options(["http://a", "http://b"])).pipe(Effect.provide(fakeClient(behaviour, calls)))
      // Equal servers are picked at random, so enough calls that "a" is surely picked until it is ejected.
      const results = yield* Effect.forEach(
        Array.from({ length: 30 }, (_, i) => i),
        (i) => pool.complete({ messages: [] }, { label: `${i}` }),
      )
      for (const result of results) assert.strictEqual(result.server, "http://b")
      // After two consecutive failures "a" is out of rotation: later calls go straight to "b".
      const tried = yield* Ref.get(calls)
      assert.strictEqual(tried.filter((url) => url === "http://a").length, 2)
      const [a] = yield* pool.snapshot
      assert.isAbove(a?.downUntil ?? 0, 0)
    }),
  )

  it.live("POSTs to a non-chat route with the pool's model, failing over like a chat call", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      const behaviour: Behaviour = (url) =>
        url === "http://a" ? Effect.fail(failing(url, 503)) : Effect.succeed(completion(url))
      const pool = yield* makePool(options(["http://a", "http://b"])).pipe(Effect.provide(fakeClient(behaviour, calls)))
      const results = yield* Effect.forEach(
        Array.from({ length: 12 }, (_, i) => i),
        (i) => pool.post("/pooling", { input: ["x"] }, { label: `${i}`, sequences: 1 }),
      )
      for (const result of results) {
        assert.strictEqual(result.server, "http://b")
        assert.deepStrictEqual(result.json, { path: "/pooling", body: { input: ["x"], model: "m" } })
      }
      const refused = yield* makePool(options(["http://a"])).pipe(
        Effect.provide(fakeClient((url) => Effect.fail(failing(url, 400)), calls)),
      )
      const error = yield* Effect.flip(refused.post("/score", {}, { label: "x", sequences: 1 }))
      assert.strictEqual(error._tag, "UpstreamError")
    }),
  )

  it.effect("does not retry a request the server rejected as bad", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      const pool = yield* makePool(options(["http://a", "http://b"])).pipe(
        Effect.provide(fakeClient((url) => Effect.fail(failing(url, 400)), calls)),
      )
      const error = yield* Effect.flip(pool.complete({ messages: [] }, { label: "1" }))
      assert.strictEqual(error._tag, "UpstreamError")
      assert.strictEqual((yield* Ref.get(calls)).length, 1)
    }),
  )

  it.effect("spreads concurrent calls over the least-loaded servers and releases them when interrupted", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      const gate = yield* Deferred.make<void>()
      const pool = yield* makePool(options(["http://a", "http://b", "http://c"])).pipe(
        Effect.provide(fakeClient(() => Effect.andThen(Deferred.await(gate), Effect.never), calls)),
      )
      const fibers = yield* Effect.forEach([1, 2, 3, 4, 5, 6], (i) =>
        Effect.forkChild(pool.complete({ messages: [], n: 2 }, { label: `${i}` })),
      )
      yield* Effect.yieldNow
      const loaded = yield* pool.snapshot
      assert.deepStrictEqual(
        loaded.map((state) => state.inFlight),
        [4, 4, 4],
      )
      yield* Effect.forEach(fibers, Fiber.interrupt)
      const released = yield* pool.snapshot
      assert.deepStrictEqual(
        released.map((state) => state.inFlight),
        [0, 0, 0],
      )
    }),
  )

  it.effect(
    "releases a call's count in flight wherever it is interrupted, a yield between any two steps included",
    () =>
      Effect.gen(function* () {
        const calls = yield* Ref.make<ReadonlyArray<string>>([])
        const pool = yield* makePool(options(["http://a", "http://b"])).pipe(
          Effect.provide(
            fakeClient(
              (url, request) => (request.max_tokens === 1 ? Effect.succeed(completion(url)) : Effect.never),
              calls,
            ),
          ),
        )
        // A first call wakes the pool's load reports: the calls below wait for no round of reads before their pick.
        yield* pool.complete({ messages: [], max_tokens: 1 }, { label: "warm" })
        // Each call yields to the scheduler every few steps (at 1 or 2 it makes no progress), and is interrupted after
        // one more of the test's own yields than the last, until five reached the server: one of them lands between
        // the step that picks a server and the call's exit handler, wherever that is.
        for (let yields = 0; (yield* Ref.get(calls)).length < 6; yields++) {
          assert.isBelow(yields, 2000, "no call reached the server")
          const fiber = yield* Effect.forkChild(
            pool.complete({ messages: [], n: 2 }, { label: "gen" }).pipe(Effect.provideService(MaxOpsBeforeYield, 3)),
          )
          for (let i = 0; i < yields; i++) yield* Effect.yieldNow
          yield* Fiber.interrupt(fiber)
          const states = yield* pool.snapshot
          assert.deepStrictEqual(
            states.map((state) => state.inFlight),
            [0, 0],
            `interrupted after ${yields} yields`,
          )
        }
      }),
  )

  it.effect("skips servers whose health probe fails, and says so when none is up", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      const pool = yield* makePool(options(["http://a", "http://b"])).pipe(
        Effect.provide(
          fakeClient(
            (url) => Effect.succeed(completion(url)),
            calls,
            (url) => url === "http://b",
          ),
        ),
      )
      yield* Effect.yieldNow
      const result = yield* pool.complete({ messages: [] }, { label: "1" })
      assert.strictEqual(result.server, "http://b")
      assert.strictEqual(yield* pool.upCount, 1)

      const downPool = yield* makePool(options(["http://a"])).pipe(
        Effect.provide(
          fakeClient(
            (url) => Effect.succeed(completion(url)),
            calls,
            () => false,
          ),
        ),
      )
      yield* Effect.yieldNow
      const error = yield* Effect.flip(downPool.complete({ messages: [] }, { label: "2" }))
      assert.strictEqual(error._tag, "NoCapacity")
    }),
  )

  it.live("keeps a timing-out server in rotation while its /metrics shows it is alive, only busy", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      const timeout = (url: string) =>
        Effect.fail(new UpstreamError({ pool: "generator", server: url, kind: "timeout", message: "slow" }))
      const busy = yield* makePool({ ...options(["http://busy"]), maxAttempts: 1 }).pipe(
        Effect.provide(
          fakeClient(
            timeout,
            calls,
            () => true,
            () => true,
          ),
        ),
      )
      const dead = yield* makePool({ ...options(["http://dead"]), maxAttempts: 1 }).pipe(
        Effect.provide(fakeClient(timeout, calls)),
      )
      yield* Effect.yieldNow
      for (const pool of [busy, dead]) {
        for (const i of [1, 2, 3]) yield* Effect.flip(pool.complete({ messages: [] }, { label: `${i}` }))
      }
      assert.strictEqual(yield* busy.upCount, 1)
      assert.strictEqual(yield* dead.upCount, 0)
    }),
  )

  it.live(
    "when timed-out tries took every server out, the error names each server, why it sits out, and the deadline",
    () =>
      Effect.gen(function* () {
        const calls = yield* Ref.make<ReadonlyArray<string>>([])
        const timeout = (url: string) =>
          Effect.fail(
            new UpstreamError({
              pool: "generator",
              server: url,
              kind: "timeout",
              message: "no answer within 5s (this try's deadline)",
            }),
          )
        const pool = yield* makePool({ ...options(["http://a", "http://b"]), maxAttempts: 1 }).pipe(
          Effect.provide(fakeClient(timeout, calls)),
        )
        yield* Effect.yieldNow
        // Two failures in a row take a server out (failureThreshold 2); each call tries one server.
        let error: { readonly _tag: string; readonly message: string } | undefined
        for (let i = 0; i < 20 && error?._tag !== "NoCapacity"; i++) {
          error = yield* Effect.flip(pool.complete({ messages: [] }, { label: `${i}` }))
        }
        assert.strictEqual(error?._tag, "NoCapacity")
        const message = error?.message ?? ""
        assert.include(message, "no server of the generator pool can take the call")
        for (const server of ["http://a", "http://b"]) {
          assert.match(
            message,
            new RegExp(
              `${server} sits out \\d+ s more after 2 failed calls in a row \\(the last: timeout: no answer within 5s`,
            ),
          )
        }
        assert.notInclude(message, "is up")
      }),
  )

  it.live("a judge call of a stage not seen yet is hedged by its family's latency, so a hung server holds none", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      let hung = false
      const behaviour: Behaviour = (url) =>
        hung && url === "http://a" ? Effect.never : Effect.as(Effect.sleep("2 millis"), completion(url))
      // A hung try would be given up only after 30 s: every answer below within 10 s was hedged.
      const pool = yield* makePool({
        ...options(["http://a", "http://b"]),
        name: "judge",
        requestTimeout: Duration.seconds(60),
        tryTimeoutFloor: Duration.seconds(30),
        hedge: ["judge"],
      }).pipe(Effect.provide(fakeClient(behaviour, calls)))
      // One stage's judge calls are seen 12 times; the conclusion's never.
      for (let i = 0; i < 12; i++) yield* pool.complete({ messages: [] }, { label: "judge-summary" })
      hung = true
      yield* Ref.set(calls, [])
      const answers = yield* Effect.forEach(
        [1, 2, 3, 4, 5, 6, 7, 8],
        () => pool.complete({ messages: [] }, { label: "judge-conclusion" }).pipe(Effect.timeout("10 seconds")),
        { concurrency: 8 },
      )
      assert.isAbove((yield* Ref.get(calls)).filter((url) => url === "http://a").length, 0, "some went to the hung one")
      for (const answer of answers) assert.strictEqual(answer.server, "http://b")
    }),
  )

  it.live("a hedged call whose first try fails when the budget has no hedge left fails over as it would unhedged", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      let broken = false
      const behaviour: Behaviour = (url) =>
        broken && url === "http://a"
          ? Effect.andThen(Effect.sleep("50 millis"), Effect.fail(failing(url, 503)))
          : Effect.as(Effect.sleep("2 millis"), completion(url))
      // No retries at all: the hedge is refused, and so is the failover, so the first try's error is the call's.
      const pool = yield* makePool({
        ...options(["http://a", "http://b"]),
        name: "judge",
        hedge: ["judge"],
        retryBudget: { ratio: 0, minimum: 0, window: Duration.seconds(10) },
      }).pipe(Effect.provide(fakeClient(behaviour, calls)))
      for (let i = 0; i < 12; i++) yield* pool.complete({ messages: [] }, { label: "judge-summary" })
      broken = true
      yield* Ref.set(calls, [])
      const outcomes = yield* Effect.forEach(
        [1, 2, 3, 4, 5, 6],
        () =>
          pool.complete({ messages: [] }, { label: "judge-summary" }).pipe(
            Effect.map((answer) => answer.server),
            Effect.catchTag("UpstreamError", (error) => Effect.succeed(`failed: ${error.server}`)),
            Effect.timeout("5 seconds"),
          ),
        { concurrency: 6 },
      )
      assert.isAbove(
        (yield* Ref.get(calls)).filter((url) => url === "http://a").length,
        0,
        "some went to the failing one",
      )
      for (const outcome of outcomes) assert.oneOf(outcome, ["http://b", "failed: http://a"])
    }),
  )

  it.effect(
    "a server that serves another model stops the start, naming it and what it offers, and takes no calls",
    () =>
      Effect.gen(function* () {
        const calls = yield* Ref.make<ReadonlyArray<string>>([])
        const served = (url: string) => (url === "http://a" ? "other/model" : "m")
        const pool = yield* makePool(options(["http://a", "http://b"])).pipe(
          Effect.provide(
            fakeClient(
              (url) => Effect.succeed(completion(url)),
              calls,
              () => true,
              () => false,
              vllmServing(served),
            ),
          ),
        )
        const refused = yield* Effect.flip(pool.probeAll)
        assert.strictEqual(refused._tag, "ModelNotServed")
        assert.include(refused.message, 'http://a of the generator pool does not serve "m"; it offers: other/model')
        for (const i of [1, 2, 3, 4, 5, 6])
          assert.strictEqual((yield* pool.complete({ messages: [] }, { label: `${i}` })).server, "http://b")
        assert.strictEqual((yield* pool.statuses).get("http://b")?._tag, "Profiled")
      }),
  )

  it.effect("capabilities come from the probe, and what the settings declare wins", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      const pool = yield* makePool({ ...options(["http://a"]), capabilities: { continuation: false } }).pipe(
        Effect.provide(
          fakeClient(
            (url) => Effect.succeed(completion(url)),
            calls,
            () => true,
            () => false,
            vllmServing(() => "m"),
          ),
        ),
      )
      yield* pool.probeAll
      assert.include(yield* pool.capabilities, { n: true, continuation: false, maxContext: 8192 })
    }),
  )

  it.effect("reads the API key for every call, so a rotated key is used from the next call on", () =>
    Effect.gen(function* () {
      const calls = yield* Ref.make<ReadonlyArray<string>>([])
      const keys: Array<string | undefined> = []
      const current = yield* Ref.make("first")
      const pool = yield* makePool({
        ...options(["http://a"]),
        apiKey: Effect.map(Ref.get(current), Redacted.make),
      }).pipe(
        Effect.provide(
          fakeClient(
            (url) => Effect.succeed(completion(url)),
            calls,
            () => true,
            () => false,
            () => undefined,
            keys,
          ),
        ),
      )
      yield* pool.complete({ messages: [] }, { label: "1" })
      yield* Ref.set(current, "second")
      yield* pool.complete({ messages: [] }, { label: "2" })
      assert.deepStrictEqual(keys, ["first", "second"])
    }),
  )
})
