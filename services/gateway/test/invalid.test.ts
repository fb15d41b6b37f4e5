import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { pngImage, startGateway, startGatewayOver, startSimulators } from "./harness.ts"

const INVALID_ARGUMENT = 3

describe("Bad requests", () => {
  it.live("answer INVALID_ARGUMENT naming the field, and the server stays up", () =>
    Effect.gen(function* () {
      const { client, raw } = yield* startGateway()
      const data = yield* pngImage()
      // The untyped client: some of these requests are ones the proto's types would not let a client write.
      const reject = (request: object) => Effect.flip(raw.unary<object, unknown>("Reason", request))

      const cases: ReadonlyArray<readonly [object, string]> = [
        [{ question: "", image: { data } }, "question"],
        [{ question: "   ", image: { data } }, "question"],
        [{ question: "What is it?", image: { data: Buffer.from("definitely not an image") } }, "image.data"],
        [{ question: "What is it?", image: { data, mimeType: "image/jpeg" } }, "image.mime_type"],
        [{ question: "What is it?", image: { url: "ftp://example.invalid/x.png" } }, "image.url"],
        [{ question: "What is it?", image: { url: "data:image/png;base64,@@@@" } }, "image.url"],
        [{ question: "What is it?", image: { mimeType: "image/png" } }, "image"],
        [{ question: "What is it?", image: { data }, search: { maxSentences: 5000 } }, "search.max_sentences"],
        [{ question: "What is it?", image: { data }, search: { strategy: 42 } }, "search.strategy"],
        [{ question: "What is it?", image: { data }, search: { tournament: 9 } }, "search.tournament"],
        [{ question: "What is it?", image: { data }, search: { preset: 7 } }, "search.preset"],
        [{ question: "What is it?", image: { data }, search: { duplicates: 5 } }, "search.duplicates"],
        [
          { question: "What is it?", image: { data }, search: { reasoningCheckMode: 9 } },
          "search.reasoning_check_mode",
        ],
        [{ question: "What is it?", image: { data }, search: { unclearVerdict: 9 } }, "search.unclear_verdict"],
        [{ question: "What is it?", image: { data }, search: { matchOrder: 7 } }, "search.match_order"],
        [{ question: "What is it?", image: { data }, search: { verdict: 5 } }, "search.verdict"],
        [{ question: "What is it?", image: { data }, search: { votes: 99 } }, "search.votes"],
        [{ question: "What is it?", image: { data }, search: { swires: { keep: 40 } } }, "search.swires.keep"],
        [{ question: "What is it?", image: { data }, judge: { name: "nobody" } }, "judge.name"],
        [{ question: "What is it?", image: { data }, search: { malformed: 3 } }, "search.malformed"],
        [{ question: "What is it?", image: { data }, search: { promptWording: 8 } }, "search.prompt_wording"],
        [
          {
            question: "What is it?",
            image: { data },
            search: { reasoningCheck: true, reasoningCheckMode: "REASONING_CHECK_OFF" },
          },
          "search.reasoning_check_mode",
        ],
        [
          { question: "What is it?", image: { data }, search: { candidatesPerStage: 65 } },
          "search.candidates_per_stage",
        ],
        [
          { question: "What is it?", image: { data }, search: { sampling: { temperature: 7 } } },
          "search.sampling.temperature",
        ],
        [
          { question: "What is it?", image: { data }, search: { sampling: { maxTokens: 100000 } } },
          "search.sampling.max_tokens",
        ],
        [{ question: "What is it?", image: { data }, judge: { kind: "JUDGE_MODEL" } }, "judge.kind"],
      ]
      for (const [request, field] of cases) {
        const error = yield* reject(request)
        assert.strictEqual(error.code, INVALID_ARGUMENT, `${field}: ${error.message}`)
        assert.include(error.message, field)
      }

      const ok = yield* client.Reason({
        question: "What is it?",
        image: { data },
        search: { strategy: "STRATEGY_GREEDY" },
      })
      assert.isAbove(ok.conclusion.length, 0)
    }),
  )
})

describe("Settings that cannot work", () => {
  it.live("stop the gateway at start, naming the setting to fix", () =>
    Effect.gen(function* () {
      const judgeless = yield* Effect.flip(startGateway({ defaultJudge: "model" }))
      assert.strictEqual(judgeless._tag, "GatewayConfigError")
      assert.include(
        judgeless.message,
        "defaultJudge: names no declared judge (declared: self, self-free-text, reward)",
      )
      const endless = yield* Effect.flip(startGateway({ defaultDeadline: "2h" }))
      assert.include(endless.message, "defaultDeadline: must be at most 3600 seconds")
    }),
  )
})

describe("Requests the model cannot answer as asked", () => {
  it.live("too few tokens per call for any stage: FAILED_PRECONDITION naming the knob", () =>
    Effect.gen(function* () {
      const { client } = yield* startGateway()
      const data = yield* pngImage()
      const error = yield* Effect.flip(
        client.Reason({
          question: "What is it?",
          image: { data },
          search: { sampling: { maxTokens: 3 } },
        }),
      )
      assert.strictEqual(error.code, 9)
      assert.include(error.message, "search.sampling.max_tokens")
    }),
  )
})

describe("Requests larger than the servers' context", () => {
  it.live("are refused before they are sent, naming max_tokens or the question", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1, { profileOverrides: { maxModelLen: 2048 } })
      const { client } = yield* startGatewayOver(servers)
      const data = yield* pngImage()
      const tooManyTokens = yield* Effect.flip(
        client.Reason({ question: "What is it?", image: { data }, search: { sampling: { maxTokens: 4096 } } }),
      )
      assert.strictEqual(tooManyTokens.code, INVALID_ARGUMENT)
      assert.include(
        tooManyTokens.message,
        "invalid search.sampling.max_tokens: is 4096; the generator pool serves a context of 2048",
      )
      const longQuestion = yield* Effect.flip(
        client.Reason({
          question: `Describe it. ${"Consider every object in the picture. ".repeat(300)}`,
          image: { data },
          search: { sampling: { maxTokens: 1024 } },
        }),
      )
      assert.strictEqual(longQuestion.code, INVALID_ARGUMENT)
      assert.include(longQuestion.message, "invalid question: is")
      // Nothing reached the server but the pool's probes of it.
      assert.isTrue(servers[0]!.requestRecords().every((record) => record.id.includes("stagebeam-probe")))
      // More bytes than the room left (2048 − 1024 − 16) but far fewer tokens: counted, it fits, and is answered.
      const fitsByTokens = `Describe it. ${"Consider every object in the picture. ".repeat(40)}`
      assert.isAbove(Buffer.byteLength(fitsByTokens), 2048 - 1024 - 16)
      const answered = yield* client.Reason({
        question: fitsByTokens,
        image: { data },
        search: { strategy: "STRATEGY_GREEDY", sampling: { maxTokens: 1024 } },
      })
      assert.isAbove(answered.conclusion.length, 0)
    }),
  )
})

/** One chat request over the HTTP door: the question and the image as OpenAI's clients send them, plus `limits`. */
const askOverHttp = (url: string | undefined, question: string, image: Uint8Array, limits: Record<string, number>) =>
  Effect.promise(() =>
    fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "Xkev/Llama-3.2V-11B-cot",
        ...limits,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: question },
              {
                type: "image_url",
                image_url: { url: `data:image/png;base64,${Buffer.from(image).toString("base64")}` },
              },
            ],
          },
        ],
      }),
    }).then(async (r) => ({
      status: r.status,
      error: ((await r.json()) as { error: { message: string; param: string; code?: string } }).error,
    })),
  )

describe("Requests the model cannot answer as asked, over HTTP: the knobs as a chat request spells them", () => {
  it.live("a question too long for the servers' context names max_tokens, not the gRPC path", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1, { profileOverrides: { maxModelLen: 2048 } })
      const { gateway } = yield* startGatewayOver(servers)
      const question = `Describe it. ${"Consider every object in the picture. ".repeat(300)}`
      const answer = yield* askOverHttp(gateway.httpUrl, question, yield* pngImage(), { max_tokens: 1024 })
      assert.strictEqual(answer.status, 400)
      assert.strictEqual(answer.error.param, "messages[0].content")
      assert.include(answer.error.message, "with max_tokens 1024 it does not fit")
      assert.notInclude(answer.error.message, "search.sampling")
    }),
  )

  it.live("too few tokens per call for any stage: 400 naming max_completion_tokens and stagebeam.token_budget", () =>
    Effect.gen(function* () {
      const { gateway } = yield* startGateway()
      const answer = yield* askOverHttp(gateway.httpUrl, "What is it?", yield* pngImage(), { max_completion_tokens: 3 })
      assert.strictEqual(answer.status, 400)
      assert.strictEqual(answer.error.code, "all_candidates_cut_by_length")
      assert.strictEqual(answer.error.param, "max_completion_tokens")
      assert.include(answer.error.message, "raise max_completion_tokens (or stagebeam.token_budget)")
      assert.notInclude(answer.error.message, "search.")
    }),
  )
})

describe("A request a GPU server refuses", () => {
  it.live("answers FAILED_PRECONDITION with the server's reason (context too long), not INTERNAL", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1, { profileOverrides: { maxModelLen: 256 } })
      // Declared larger than it is, so the gateway sends the request and the server refuses it.
      const { client } = yield* startGatewayOver(servers, {
        pools: { generator: { capabilities: { maxContext: 100_000 } } },
      })
      const error = yield* Effect.flip(
        client.Reason({
          question: `Describe in detail. ${"Consider every object in the picture. ".repeat(60)}`,
          image: { data: yield* pngImage() },
        }),
      )
      assert.strictEqual(error.code, 9)
      assert.include(error.message, "maximum context length")
    }),
  )
})
