import { assert, describe, it } from "@effect/vitest"
import { DEFAULTS } from "@stagebeam/cot"
import { ASSUMED, type CallOptions, type Capabilities, type ChatRequest, type Pool } from "@stagebeam/fleet"
import { Effect } from "effect"
import { makeFleetGenerator, splitSamples } from "../src/FleetGenerator.ts"

/**
 * A pool that answers every request with n samples of its seed (at most `maxChoices`, as a server that ignores or
 * caps n), and records the requests and their call options.
 */
const echoPool = (
  requests: Array<ChatRequest>,
  options: {
    capabilities?: Partial<Capabilities>
    maxChoices?: number
    estimated?: boolean
    calls?: Array<CallOptions>
  } = {},
): Pool => ({
  name: "generator",
  model: "m",
  complete: (request, callOptions) =>
    Effect.sync(() => {
      requests.push(request)
      options.calls?.push(callOptions)
      const n = Math.min(request.n ?? 1, options.maxChoices ?? Number.POSITIVE_INFINITY)
      return {
        server: `http://gpu/${requests.length}`,
        completion: {
          id: "c",
          model: "m",
          choices: Array.from({ length: n }, (_, index) => ({
            index,
            message: { content: `<SUMMARY>sample ${request.seed}-${index}</SUMMARY>` },
            finish_reason: "stop",
          })),
          usage: {
            prompt_tokens: 100,
            completion_tokens: 10 * n,
            ...(options.estimated === true && { estimated: true }),
          },
        },
      }
    }),
  post: () => Effect.die(new Error("this pool serves chat only")),
  snapshot: Effect.succeed([]),
  upCount: Effect.succeed(1),
  capabilities: Effect.succeed({ ...ASSUMED, ...options.capabilities }),
  statuses: Effect.succeed(new Map()),
  probeAll: Effect.void,
})

const request = (n: number) => ({
  question: "q",
  imageUrl: "data:image/png;base64,AA",
  prefix: "",
  n,
  stop: ["</SUMMARY>"],
  sampling: { temperature: DEFAULTS.temperature, topP: DEFAULTS.topP, maxTokens: DEFAULTS.maxTokens },
  seed: 7,
})

describe("FleetGenerator", () => {
  it("splits N into requests a server can schedule", () => {
    assert.deepStrictEqual(splitSamples(4, 16), [4])
    assert.deepStrictEqual(splitSamples(20, 16), [16, 4])
    assert.deepStrictEqual(splitSamples(64, 16), [16, 16, 16, 16])
  })

  it.effect("samples N continuations in one n=N request that stops at the stage's closing tag, keeping it", () =>
    Effect.gen(function* () {
      const requests: Array<ChatRequest> = []
      const result = yield* makeFleetGenerator(echoPool(requests), { maxSamplesPerRequest: 16 }).generate(request(4))
      assert.strictEqual(requests.length, 1)
      assert.include(requests[0], { n: 4, seed: 7, include_stop_str_in_output: true })
      // A new answer needs no chat-template flags (they are vLLM's; their defaults start a new answer).
      assert.notProperty(requests[0], "add_generation_prompt")
      assert.deepStrictEqual(requests[0]?.stop, ["</SUMMARY>"])
      assert.strictEqual(result.samples.length, 4)
      assert.strictEqual(result.promptTokens, 100)
    }),
  )

  it.effect("never asks n > 1 at temperature 0 (vLLM refuses it): N single requests instead", () =>
    Effect.gen(function* () {
      const requests: Array<ChatRequest> = []
      const greedy = { ...request(4), sampling: { ...request(4).sampling, temperature: 0 } }
      const result = yield* makeFleetGenerator(echoPool(requests), { maxSamplesPerRequest: 16 }).generate(greedy)
      assert.strictEqual(requests.length, 4)
      for (const sent of requests) {
        assert.notProperty(sent, "n")
        assert.strictEqual(sent.temperature, 0)
      }
      assert.strictEqual(result.samples.length, 4)
    }),
  )

  it.effect("a larger N goes out as parallel requests with distinct seeds", () =>
    Effect.gen(function* () {
      const requests: Array<ChatRequest> = []
      const result = yield* makeFleetGenerator(echoPool(requests), { maxSamplesPerRequest: 16 }).generate(request(20))
      assert.deepStrictEqual(
        requests.map((sent) => sent.n),
        [16, 4],
      )
      assert.notStrictEqual(requests[0]?.seed, requests[1]?.seed)
      assert.strictEqual(result.samples.length, 20)
      assert.strictEqual(new Set(result.samples.map((sample) => sample.text)).size, 20)
    }),
  )

  it.effect("continuing a prefix sends vLLM's continuation flags", () =>
    Effect.gen(function* () {
      const requests: Array<ChatRequest> = []
      yield* makeFleetGenerator(echoPool(requests), { maxSamplesPerRequest: 16 }).generate({
        ...request(2),
        prefix: "<SUMMARY>plan</SUMMARY>",
      })
      assert.include(requests[0], { continue_final_message: true, add_generation_prompt: false })
    }),
  )

  it.effect("on a pool without n, the N samples go out as parallel single requests with distinct seeds", () =>
    Effect.gen(function* () {
      const requests: Array<ChatRequest> = []
      const pool = echoPool(requests, { capabilities: { n: false } })
      const result = yield* makeFleetGenerator(pool, { maxSamplesPerRequest: 16 }).generate(request(4))
      assert.strictEqual(requests.length, 4)
      for (const sent of requests) assert.notProperty(sent, "n")
      assert.strictEqual(new Set(requests.map((sent) => sent.seed)).size, 4)
      assert.strictEqual(result.samples.length, 4)
      assert.strictEqual(new Set(result.samples.map((sample) => sample.text)).size, 4)
      assert.strictEqual(result.promptTokens, 400)
    }),
  )

  it.effect("a server that answers fewer samples than asked gets the missing ones asked again, one each", () =>
    Effect.gen(function* () {
      const requests: Array<ChatRequest> = []
      const pool = echoPool(requests, { maxChoices: 1 })
      const result = yield* makeFleetGenerator(pool, { maxSamplesPerRequest: 16 }).generate(request(3))
      assert.deepStrictEqual(
        requests.map((sent) => sent.n),
        [3, undefined, undefined],
      )
      assert.strictEqual(new Set(requests.map((sent) => sent.seed)).size, 3)
      assert.strictEqual(new Set(result.samples.map((sample) => sample.text)).size, 3)
    }),
  )

  it.effect("on a pool that ignores stop strings, each request is streamed and cut at the closing tag", () =>
    Effect.gen(function* () {
      const requests: Array<ChatRequest> = []
      const calls: Array<CallOptions> = []
      const ignoring = echoPool(requests, { capabilities: { stop: false }, calls })
      yield* makeFleetGenerator(ignoring, { maxSamplesPerRequest: 16 }).generate(request(2))
      assert.deepStrictEqual(calls[0]?.cutAt, ["</SUMMARY>"])
      const honouring: Array<CallOptions> = []
      yield* makeFleetGenerator(echoPool([], { calls: honouring }), { maxSamplesPerRequest: 16 }).generate(request(2))
      assert.isUndefined(honouring[0]?.cutAt)
    }),
  )

  it.effect("passes on that the counts are estimates", () =>
    Effect.gen(function* () {
      const result = yield* makeFleetGenerator(echoPool([], { estimated: true }), {
        maxSamplesPerRequest: 16,
      }).generate(request(2))
      assert.isTrue(result.tokensEstimated)
    }),
  )
})
