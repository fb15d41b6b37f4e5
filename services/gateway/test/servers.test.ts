import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ReasonRequest } from "@stagebeam/proto"
import type { BehaviourName } from "@stagebeam/vllm-sim"
import { Effect, Layer } from "effect"
import { GatewaySettings } from "../src/dev/TestSettings.ts"
import { serveGateway } from "../src/Gateway.ts"
import { pngImage, startGatewayOver, startSimulators, urlsOf } from "./harness.ts"

const QUESTION = "Which animal is in the picture?\nA. cat\nB. dog\nC. bird\nD. fish"
const FAILED_PRECONDITION = 9
const UNAVAILABLE = 14

type Strategy = NonNullable<NonNullable<ReasonRequest["search"]>["strategy"]>

const request = (strategy: Strategy) =>
  Effect.map(pngImage(), (data) => ({
    question: QUESTION,
    image: { data },
    search: { strategy, candidatesPerStage: 4, seed: "7" },
    includeStages: true,
    includeTrace: true,
  }))

/** A gateway over one simulated server of the given kind. */
const gatewayOn = (behaviour: BehaviourName, settings: Parameters<typeof startGatewayOver>[1] = {}) =>
  Effect.gen(function* () {
    const servers = yield* startSimulators(1, { behaviour })
    const started = yield* startGatewayOver(servers, settings)
    return { ...started, server: servers[0]! }
  })

const writeKey = (key: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "stagebeam-key-")), "judge-key")
  writeFileSync(path, key)
  return path
}

describe("the gateway on each kind of server", () => {
  it.live("STAGE_BEAM works wherever continuation works, with vllm-0.10's answer on vllm-0.12 for the same seed", () =>
    Effect.gen(function* () {
      const answers: Partial<Record<BehaviourName, { stages: ReadonlyArray<string>; conclusion: string }>> = {}
      for (const behaviour of ["vllm-0.10", "vllm-0.12", "sglang"] as const) {
        const { client } = yield* gatewayOn(behaviour)
        const response = yield* client.Reason(yield* request("STRATEGY_STAGE_BEAM"))
        assert.deepStrictEqual(
          response.stages.map((stage) => stage.name),
          ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"],
          behaviour,
        )
        assert.isAbove(response.conclusion.length, 0, behaviour)
        // SGLang trims stop strings: the gateway puts the closing tag back, so every candidate stays valid.
        const candidates = response.trace.flatMap((event) => (event.candidate == null ? [] : [event.candidate]))
        assert.isTrue(
          candidates.every((candidate) => candidate.valid),
          `${behaviour}: ${candidates.find((c) => !c.valid)?.problem}`,
        )
        answers[behaviour] = { stages: response.stages.map((stage) => stage.text), conclusion: response.conclusion }
      }
      // vLLM honours seeds on both engines; SGLang does not (without --enable-deterministic-inference).
      assert.deepStrictEqual(answers["vllm-0.12"], answers["vllm-0.10"])
    }),
  )

  it.live(
    "on a minimal OpenAI-compatible server GREEDY and BEST_OF_N answer; STAGE_BEAM and SENTENCE_BEAM are refused",
    () =>
      Effect.gen(function* () {
        const { client, server } = yield* gatewayOn("minimal")
        const refused = yield* Effect.flip(client.Reason(yield* request("STRATEGY_STAGE_BEAM")))
        assert.strictEqual(refused.code, FAILED_PRECONDITION)
        assert.include(refused.message, "the generator pool cannot run STAGE_BEAM")
        assert.include(refused.message, '"continuation"')
        assert.strictEqual(refused.metadata?.["x-missing-capability"], "continuation")
        const sentences = yield* Effect.flip(client.Reason(yield* request("STRATEGY_SENTENCE_BEAM")))
        assert.strictEqual(sentences.code, FAILED_PRECONDITION)
        // Refused before admission: the server saw no generation request for them.
        const before = server.stats().requests.finished
        const greedy = yield* client.Reason(yield* request("STRATEGY_GREEDY"))
        assert.isAbove(greedy.conclusion.length, 0)
        assert.isTrue(greedy.usage?.tokensEstimated)
        assert.isAbove(Number(greedy.usage?.completionTokens), 0)
        const best = yield* client.Reason(yield* request("STRATEGY_BEST_OF_N"))
        assert.isAbove(best.conclusion.length, 0)
        const candidates = best.trace.flatMap((event) => (event.candidate == null ? [] : [event.candidate]))
        // No n: four single requests with distinct seeds, so four distinct answers.
        assert.strictEqual(candidates.length, 4)
        assert.strictEqual(new Set(candidates.map((candidate) => candidate.text)).size, 4)
        assert.isTrue(candidates.every((candidate) => candidate.valid && candidate.tokensEstimated))
        assert.isAbove(server.stats().requests.finished - before, 4)
      }),
  )

  it.live(
    "a server that answers fewer samples than asked (n declared, yet ignored) gets the rest asked one by one",
    () =>
      Effect.gen(function* () {
        const { client } = yield* gatewayOn("minimal", { pools: { generator: { capabilities: { n: true } } } })
        const best = yield* client.Reason(yield* request("STRATEGY_BEST_OF_N"))
        const candidates = best.trace.flatMap((event) => (event.candidate == null ? [] : [event.candidate]))
        assert.strictEqual(candidates.length, 4)
        assert.strictEqual(new Set(candidates.map((candidate) => candidate.text)).size, 4)
      }),
  )

  it.live("on a server that ignores stop strings, each stage call is cut at its tag and aborted there", () =>
    Effect.gen(function* () {
      // vLLM built to ignore stop strings, at a speed where the abort lands within a few tokens.
      const run = (declared: boolean) =>
        Effect.gen(function* () {
          const servers = yield* startSimulators(1, { speed: 20, behaviourOverrides: { stop: "ignored" } })
          const { client } = yield* startGatewayOver(servers, {
            pools: { generator: { capabilities: { stop: !declared } } },
          })
          const response = yield* client.Reason({
            ...(yield* request("STRATEGY_STAGE_BEAM")),
            search: { candidatesPerStage: 2, seed: "3" },
          })
          return { response, stats: servers[0]!.stats() }
        })
      const streamed = yield* run(true)
      const candidates = streamed.response.trace.flatMap((event) => (event.candidate == null ? [] : [event.candidate]))
      for (const candidate of candidates) {
        assert.isTrue(candidate.valid, candidate.problem)
        assert.match(candidate.text, /<\/(SUMMARY|CAPTION|REASONING|CONCLUSION)>$/)
      }
      // SUMMARY and CAPTION calls at least: the REASONING and CONCLUSION calls may end on their own first, as
      // little is written after their tags.
      assert.isAtLeast(streamed.stats.requests.aborted, 2)
      // Without the abort (the capability not declared, the text only cut on the gateway) every stage call writes
      // the whole rest of the answer.
      const written = yield* run(false)
      assert.deepStrictEqual(
        written.response.stages.map((stage) => stage.name),
        ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"],
      )
      // (888 against 684 tokens at this seed: the SUMMARY call's two samples write on for a while before the abort.)
      assert.isAbove(written.stats.generationTokens, 1.2 * streamed.stats.generationTokens)
    }),
  )

  it.live(
    "a judge pool on a minimal server with an API key works; a wrong key answers a clear error naming the pool",
    () =>
      Effect.gen(function* () {
        const generator = yield* startSimulators(1)
        const judge = yield* startSimulators(1, { behaviour: "minimal", apiKey: "judge-secret" })
        const keyFile = writeKey("not-the-key\n")
        const { client } = yield* startGatewayOver(generator, {
          pools: { judge: { endpoints: urlsOf(judge), apiKey: { file: keyFile } } },
        })
        const asked = { ...(yield* request("STRATEGY_STAGE_BEAM")), judge: { kind: "JUDGE_MODEL" as const } }
        const refused = yield* Effect.flip(client.Reason(asked))
        assert.strictEqual(refused.code, FAILED_PRECONDITION)
        assert.include(refused.message, "the judge pool cannot authenticate to its servers")
        assert.include(refused.message, "refused the judge pool's API key (401: Incorrect API key provided.)")
        assert.strictEqual(refused.metadata?.["x-upstream-pool"], "judge")
        assert.strictEqual(refused.metadata?.["x-upstream-status"], "401")
        // The key file is rotated: the next call uses the new key.
        writeFileSync(keyFile, "judge-secret\n")
        const response = yield* client.Reason(asked)
        assert.strictEqual(response.stages.length, 4)
        // Every match a judge call decided (two identical candidates are a coin, with no server).
        const matches = response.trace.flatMap((event) => (event.match?.decidedBy === "JUDGE" ? [event.match] : []))
        assert.isAbove(matches.length, 0)
        for (const match of matches) assert.strictEqual(match.server, judge[0]!.url)
        assert.isTrue(response.usage?.tokensEstimated)
      }),
  )
})

describe("what the servers answer, read as they mean it", () => {
  it.live("a server that does not serve the pool's model stops the start, naming the pool and what it offers", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1, { model: "Qwen/Qwen2.5-VL-7B-Instruct" })
      const failed = yield* Effect.flip(
        serveGateway.pipe(
          Effect.provide(
            Layer.fresh(GatewaySettings.layerTest({ pools: { generator: { endpoints: urlsOf(servers) } } })),
          ),
        ),
      )
      assert.strictEqual(failed._tag, "GatewayConfigError")
      assert.include(
        failed.message,
        `pools.generator.model: ${servers[0]!.url} of the generator pool does not serve "Xkev/Llama-3.2V-11B-cot"; it offers: Qwen/Qwen2.5-VL-7B-Instruct`,
      )
    }),
  )

  it.live("a 200 that is no completion is a retryable upstream error counted as malformed, not connect", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1, { faults: { malformedRate: 1 } })
      const { client, gateway } = yield* startGatewayOver(servers)
      const failed = yield* Effect.flip(client.Reason(yield* request("STRATEGY_GREEDY")))
      assert.strictEqual(failed.code, UNAVAILABLE)
      assert.strictEqual(failed.metadata?.["x-upstream-kind"], "malformed")
      const text = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
      const ours = text.split("\n").filter((line) => line.includes(`endpoint="${servers[0]!.url}"`))
      assert.isTrue(
        ours.some((line) => /stagebeam_upstream_requests_total\{[^}]*outcome="malformed"[^}]*\} [1-9]/.test(line)),
      )
      assert.isFalse(ours.some((line) => line.includes('outcome="connect"')))
    }),
  )

  it.live("an HTML error page from a proxy comes back as its title, and SGLang's flat error body as its message", () =>
    Effect.gen(function* () {
      const proxied = yield* startSimulators(1, { faults: { errorRate: 1, errorStatus: 502, errorPage: "html" } })
      const behind = yield* startGatewayOver(proxied, { upstream: { attempts: 1 } })
      const failed = yield* Effect.flip(behind.client.Reason(yield* request("STRATEGY_GREEDY")))
      assert.strictEqual(failed.code, UNAVAILABLE)
      assert.include(failed.message, "502 Bad Gateway")
      assert.notInclude(failed.message, "<")
      // Declared larger than it is, so the request reaches SGLang and its error body comes back.
      const { client } = yield* gatewayOn("sglang", { pools: { generator: { capabilities: { maxContext: 100_000 } } } })
      const tooLong = yield* Effect.flip(
        client.Reason({
          ...(yield* request("STRATEGY_GREEDY")),
          search: { strategy: "STRATEGY_GREEDY", sampling: { maxTokens: 8192 } },
        }),
      )
      assert.strictEqual(tooLong.code, FAILED_PRECONDITION)
      assert.include(tooLong.message, "maximum context length is 8192 tokens")
    }),
  )
})
