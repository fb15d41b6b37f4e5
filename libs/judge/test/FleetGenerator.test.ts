import { assert, describe, it } from "@effect/vitest"
import { DEFAULTS } from "@stagebeam/cot"
import type { ChatRequest, Pool } from "@stagebeam/fleet"
import { Effect } from "effect"
import { makeFleetGenerator, splitSamples } from "../src/FleetGenerator.ts"

/** A pool that answers every request with n samples of its seed, and records the requests. */
const echoPool = (requests: Array<ChatRequest>): Pool => ({
  name: "generator",
  model: "m",
  complete: (request) =>
    Effect.sync(() => {
      requests.push(request)
      const n = request.n ?? 1
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
          usage: { prompt_tokens: 100, completion_tokens: 10 * n },
        },
      }
    }),
  snapshot: Effect.succeed([]),
  upCount: Effect.succeed(1),
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
      assert.include(requests[0], { n: 4, seed: 7, include_stop_str_in_output: true, add_generation_prompt: true })
      assert.deepStrictEqual(requests[0]?.stop, ["</SUMMARY>"])
      assert.strictEqual(result.samples.length, 4)
      assert.strictEqual(result.promptTokens, 100)
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
})
