import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { request as httpsRequest } from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import OpenAI from "openai"
import { makeCertificates } from "../../../libs/grpc/test/fixtures/certs.ts"
import { eventually, pngImage, startGateway, startGatewayOver, startSimulators } from "./harness.ts"

const QUESTION = "Which shape is shown?\nA. circle\nB. square\nC. star\nD. arrow"
const MODEL = "Xkev/Llama-3.2V-11B-cot"

const openai = (baseURL: string, apiKey = "unused") => new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0 })

const dataUrl = (png: Uint8Array) => `data:image/png;base64,${Buffer.from(png).toString("base64")}`

/** A user message with the question and the image, as OpenAI's clients send it. */
const messagesWith = (image: string, question = QUESTION) => [
  {
    role: "user" as const,
    content: [
      { type: "text" as const, text: question },
      { type: "image_url" as const, image_url: { url: image } },
    ],
  },
]

/** A chat request with stagebeam's search options in its extra body field. */
type Ask = OpenAI.ChatCompletionCreateParamsNonStreaming & { readonly stagebeam?: Record<string, unknown> }
type AskStream = OpenAI.ChatCompletionCreateParamsStreaming & { readonly stagebeam?: Record<string, unknown> }

const ask = (sdk: OpenAI, body: Ask) => sdk.chat.completions.create(body)
const askStream = (sdk: OpenAI, body: AskStream, options?: { readonly signal: AbortSignal }) =>
  sdk.chat.completions.create(body, options)

/** The fields stagebeam adds to OpenAI's, as a client reads them. */
interface WithReasoning {
  readonly reasoning_content?: string
}

const httpUrlOf = (gateway: { readonly httpUrl: string | undefined }) => {
  assert.isDefined(gateway.httpUrl)
  return gateway.httpUrl!
}

describe("the OpenAI-compatible HTTP door", () => {
  it.live("answers chat completions: the conclusion as content, the hidden stages as reasoning_content", () =>
    Effect.gen(function* () {
      const { gateway, client } = yield* startGateway()
      const image = yield* pngImage()
      const completion = yield* Effect.promise(() =>
        ask(openai(httpUrlOf(gateway)), {
          model: MODEL,
          messages: messagesWith(dataUrl(image)),
          stagebeam: { candidates: 2, seed: 7 },
        }),
      )
      const message = completion.choices[0]!.message as (typeof completion.choices)[0]["message"] & WithReasoning
      assert.strictEqual(completion.object, "chat.completion")
      assert.match(message.content ?? "", /[ABCD]/)
      assert.match(message.reasoning_content ?? "", /^<SUMMARY>[\s\S]*<\/CAPTION>[\s\S]*<\/REASONING>$/)
      assert.notInclude(message.reasoning_content ?? "", "<CONCLUSION>")
      assert.isAbove(completion.usage?.completion_tokens ?? 0, 0)
      // The same search over gRPC (same seed) gives the same answer: one path behind both doors.
      const grpc = yield* client.Reason({
        question: QUESTION,
        image: { data: image },
        search: { candidatesPerStage: 2, seed: "7" },
        includeStages: true,
      })
      assert.strictEqual(message.content, grpc.conclusion)
      assert.include(message.reasoning_content ?? "", grpc.stages[2]!.text)
    }),
  )

  it.live("streams chat completion chunks: reasoning_content as each stage is chosen, then content and usage", () =>
    Effect.gen(function* () {
      const { gateway } = yield* startGateway()
      const image = dataUrl(yield* pngImage())
      const sdk = openai(httpUrlOf(gateway))
      const options = { candidates: 2, seed: 11 }
      const stream = yield* Effect.promise(() =>
        askStream(sdk, {
          model: MODEL,
          messages: messagesWith(image),
          stream: true,
          stream_options: { include_usage: true },
          stagebeam: options,
        }),
      )
      const chunks = yield* Effect.promise(async () => {
        const all = []
        for await (const chunk of stream) all.push(chunk)
        return all
      })
      const deltas = chunks.flatMap((chunk) =>
        chunk.choices.map((choice) => choice.delta as typeof choice.delta & WithReasoning),
      )
      const reasoningPieces = deltas.flatMap((delta) => (delta.reasoning_content ? [delta.reasoning_content] : []))
      const content = deltas.map((delta) => delta.content ?? "").join("")
      // One piece per hidden stage chosen, as it was chosen.
      assert.isAtLeast(reasoningPieces.length, 3)
      assert.strictEqual(deltas[0]?.role, "assistant")
      assert.strictEqual(chunks.at(-2)?.choices[0]?.finish_reason, "stop")
      const last = chunks.at(-1)!
      assert.deepStrictEqual(last.choices, [])
      assert.isAbove(last.usage?.total_tokens ?? 0, 0)
      // The streamed answer is the non-streamed one.
      const whole = yield* Effect.promise(() =>
        ask(sdk, { model: MODEL, messages: messagesWith(image), stagebeam: options }),
      )
      const message = whole.choices[0]!.message as (typeof whole.choices)[0]["message"] & WithReasoning
      assert.strictEqual(content, message.content)
      assert.strictEqual(reasoningPieces.join(""), message.reasoning_content)
    }),
  )

  it.live("picks a judge by name (stagebeam.judge_name), SWIRES with a reward judge; the answer names the judge", () =>
    Effect.gen(function* () {
      const { gateway } = yield* startGateway()
      const sdk = openai(httpUrlOf(gateway))
      const image = dataUrl(yield* pngImage())
      const judged = (options: Record<string, unknown>) =>
        Effect.promise(() => ask(sdk, { model: MODEL, messages: messagesWith(image), stagebeam: options }))
      const byReward = (yield* judged({ candidates: 2, judge_name: "reward", verdict: "choice" })) as unknown as {
        stagebeam: { strategy: string; judge_calls: number; selection: { judge: string; judging: string } }
      }
      assert.strictEqual(byReward.stagebeam.selection.judge, "reward")
      assert.strictEqual(byReward.stagebeam.selection.judging, "POINTWISE")
      const swires = (yield* judged({ strategy: "swires", judge_name: "reward" })) as unknown as {
        choices: ReadonlyArray<{ message: { content: string } }>
        stagebeam: { strategy: string }
      }
      assert.strictEqual(swires.stagebeam.strategy, "SWIRES")
      assert.match(swires.choices[0]!.message.content, /[ABCD]/)
      const freeText = (yield* judged({ candidates: 2, judge_name: "self-free-text" })) as unknown as {
        stagebeam: { selection: { judge: string; verdict: string } }
      }
      assert.deepStrictEqual(freeText.stagebeam.selection, {
        ...freeText.stagebeam.selection,
        judge: "self-free-text",
        verdict: "FREE_TEXT",
      })
    }),
  )

  it.live("refuses a bad request with OpenAI's 400 body naming the field", () =>
    Effect.gen(function* () {
      const { gateway } = yield* startGateway()
      const sdk = openai(httpUrlOf(gateway))
      const image = dataUrl(yield* pngImage())
      const refused = (body: Record<string, unknown>) =>
        Effect.promise(() =>
          sdk.chat.completions.create({ model: MODEL, messages: messagesWith(image), ...body } as never).then(
            () => undefined,
            (error: unknown) => error,
          ),
        )
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
        [{ stagebeam: { candidates: 0 } }, "stagebeam.candidates"],
        [{ stagebeam: { strategy: "beam" } }, "stagebeam.strategy"],
        [{ stagebeam: { judge_name: "nope" } }, "stagebeam.judge_name"],
        [{ stagebeam: { strategy: "swires", judge_name: "self" } }, "stagebeam.judge_name"],
        [{ stagebeam: { votes: 0 } }, "stagebeam.votes"],
        [{ temperature: 9 }, "temperature"],
        [{ max_tokens: 0 }, "max_tokens"],
        [{ model: "gpt-4o" }, "model"],
        [{ n: 3 }, "n"],
        [{ messages: messagesWith("ftp://example.com/x.png") }, "messages[0].content[1].image_url.url"],
        [{ messages: messagesWith("data:image/png;base64,AAAA") }, "messages[0].content[1].image_url.url"],
        // Refused by the URL policy (loopback) once admitted, on the Reasoning path: still named as sent.
        [{ messages: messagesWith("http://127.0.0.1:1/photo.png") }, "messages[0].content[1].image_url.url"],
        [{ model: "stage_beam-4/gpt-4o" }, "model"],
        [{ messages: [{ role: "assistant", content: "Hello." }, ...messagesWith(image)] }, "messages[0].role"],
        [
          {
            messages: [
              { role: "system", content: [{ type: "image_url", image_url: { url: image } }] },
              ...messagesWith(image),
            ],
          },
          "messages[0].content[0]",
        ],
        [{ messages: [{ role: "user", content: [{ type: "audio", data: "" }] }] }, "messages[0].content[0]"],
      ]
      for (const [body, param] of cases) {
        const error = yield* refused(body)
        assert.instanceOf(error, OpenAI.BadRequestError, JSON.stringify(body))
        const bad = error as InstanceType<typeof OpenAI.BadRequestError>
        assert.strictEqual(bad.status, 400)
        assert.strictEqual(bad.param, param, JSON.stringify(body))
        assert.strictEqual(bad.type, "invalid_request_error")
        assert.include(bad.message, `invalid ${param}`)
      }
      // A body that is not JSON, straight over HTTP.
      const response = yield* Effect.promise(() =>
        fetch(`${httpUrlOf(gateway)}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{not json",
        }),
      )
      assert.strictEqual(response.status, 400)
      const body = (yield* Effect.promise(() => response.json())) as { error: { param: string } }
      assert.strictEqual(body.error.param, "body")
    }),
  )

  it.live("folds system messages into the question; STRATEGY-N/MODEL picks the search (optillm's convention)", () =>
    Effect.gen(function* () {
      const { gateway, client } = yield* startGateway()
      const image = yield* pngImage()
      const system = "You are a careful assistant. Answer with the letter."
      const completion = yield* Effect.promise(() =>
        ask(openai(httpUrlOf(gateway)), {
          model: `stage_beam-4/${MODEL}`,
          messages: [{ role: "system", content: system }, ...messagesWith(dataUrl(image))],
          stagebeam: { seed: 11 },
        }),
      )
      const stagebeam = (completion as unknown as { stagebeam: { strategy: string; candidates: number } }).stagebeam
      assert.strictEqual(stagebeam.strategy, "STAGE_BEAM")
      assert.strictEqual(stagebeam.candidates, 4)
      // The documented rule: the system text, a blank line, the question. gRPC with that question answers the same.
      const grpc = yield* client.Reason({
        question: `${system}\n\n${QUESTION}`,
        image: { data: image },
        search: { candidatesPerStage: 4, seed: "11" },
      })
      assert.strictEqual(completion.choices[0]!.message.content, grpc.conclusion)
      // The model name alone, streamed: greedy.
      const greedy = yield* Effect.promise(async () => {
        const chunks = await askStream(openai(httpUrlOf(gateway)), {
          model: `greedy/${MODEL}`,
          messages: [{ role: "developer", content: "Be brief." }, ...messagesWith(dataUrl(image))],
          stream: true,
          stream_options: { include_usage: true },
        })
        let last: unknown
        for await (const chunk of chunks) last = chunk
        return last as { stagebeam?: { strategy: string } }
      })
      assert.strictEqual(greedy.stagebeam?.strategy, "GREEDY")
    }),
  )

  it.live(
    "keeps a long stream alive: an SSE comment at least every 15 s while a stage is searched",
    () =>
      Effect.gen(function* () {
        // A slow fleet: the search takes over 30 s, with stages longer than a proxy's idle timeout.
        const { gateway } = yield* startGateway({ simulator: { servers: 1, speed: 0.07 } })
        const image = dataUrl(yield* pngImage())
        const arrivals = yield* Effect.promise(async () => {
          const response = await fetch(`${httpUrlOf(gateway)}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              model: MODEL,
              messages: messagesWith(image),
              stream: true,
              stagebeam: { strategy: "greedy", seed: 3, deadline_ms: 120_000 },
            }),
          })
          const seen: Array<{ readonly at: number; readonly text: string }> = [{ at: Date.now(), text: "" }]
          const decoder = new TextDecoder()
          for await (const chunk of response.body!) seen.push({ at: Date.now(), text: decoder.decode(chunk) })
          return seen
        })
        const text = arrivals.map((arrival) => arrival.text).join("")
        const gaps = arrivals.slice(1).map((arrival, i) => arrival.at - arrivals[i]!.at)
        assert.isAtLeast(arrivals.at(-1)!.at - arrivals[0]!.at, 30_000, "the search ran for at least 30 s")
        assert.include(text, ": keep-alive\n\n")
        assert.isAtMost(Math.max(...gaps), 15_000, `gaps between writes: ${gaps.join(", ")} ms`)
        assert.include(text, "data: [DONE]")
      }),
    120_000,
  )

  it.live("lists the model it serves", () =>
    Effect.gen(function* () {
      const { gateway } = yield* startGateway()
      const models = yield* Effect.promise(() => openai(httpUrlOf(gateway)).models.list())
      assert.deepStrictEqual(
        models.data.map((model) => model.id),
        [MODEL],
      )
    }),
  )

  it.live("lists the declared judges on GET /v1/judges, as ListJudges does over gRPC", () =>
    Effect.gen(function* () {
      const { gateway, client } = yield* startGateway()
      const response = yield* Effect.promise(() => fetch(`${httpUrlOf(gateway)}/v1/judges`))
      assert.strictEqual(response.status, 200)
      // The HTTP door's convention: snake_case (gRPC's own JSON is camelCase).
      const listed = (yield* Effect.promise(() => response.json())) as {
        default_judge: string
        judges: ReadonlyArray<{ name: string; kind: string; judging: string; is_default: boolean }>
      }
      const grpc = yield* client.ListJudges({})
      assert.strictEqual(listed.default_judge, grpc.defaultJudge)
      assert.deepStrictEqual(
        listed.judges.map((judge) => [judge.name, judge.kind, judge.judging, judge.is_default]),
        grpc.judges.map((judge) => [judge.name, judge.kind, judge.judging, judge.isDefault]),
      )
      assert.includeMembers(
        listed.judges.map((judge) => judge.name),
        ["self", "reward"],
      )
    }),
  )
  it.live("sends the search's events as server-sent events, the answer last", () =>
    Effect.gen(function* () {
      const { gateway } = yield* startGateway()
      const response = yield* Effect.promise(() =>
        fetch(`${httpUrlOf(gateway)}/v1/search/events`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": "page-1" },
          body: JSON.stringify({ model: MODEL, messages: messagesWith(dataUrl(new Uint8Array())), stagebeam: {} }),
        }),
      )
      // An empty image is refused before anything streams.
      assert.strictEqual(response.status, 400)
      const ok = yield* Effect.promise(async () =>
        fetch(`${httpUrlOf(gateway)}/v1/search/events`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": "page-2" },
          body: JSON.stringify({
            model: MODEL,
            messages: messagesWith(dataUrl(await Effect.runPromise(pngImage()))),
            stagebeam: { candidates: 3, seed: 3 },
          }),
        }),
      )
      assert.strictEqual(ok.headers.get("content-type"), "text/event-stream")
      assert.strictEqual(ok.headers.get("x-request-id"), "page-2")
      const text = yield* Effect.promise(() => ok.text())
      const names = [...text.matchAll(/^event: (\w+)$/gm)].map((match) => match[1])
      assert.strictEqual(names[0], "search_started")
      assert.strictEqual(names.at(-1), "done")
      assert.includeMembers(names, ["step_started", "candidate", "match", "step_chosen"])
      const done = JSON.parse(text.trim().split("\n").at(-1)!.slice("data: ".length))
      assert.isAbove(done.done.conclusion.length, 0)
    }),
  )

  it.live("a client that goes away cancels the search and aborts the upstream requests", () =>
    Effect.gen(function* () {
      // Real-time speed: a stage takes seconds, so the disconnect lands while the servers are generating.
      const servers = yield* startSimulators(1, { speed: 1 })
      const { gateway } = yield* startGatewayOver(servers)
      const server = servers[0]!
      const image = dataUrl(yield* pngImage())
      const abort = new AbortController()
      const sdk = openai(httpUrlOf(gateway))
      const call = askStream(
        sdk,
        { model: MODEL, messages: messagesWith(image), stream: true, stagebeam: { candidates: 4 } },
        { signal: abort.signal },
      )
        .then(
          async (stream) => {
            for await (const _ of stream) {
              // reading until aborted
            }
          },
          () => undefined,
        )
        .catch(() => undefined)
      assert.isTrue(yield* eventually(Effect.sync(() => server.stats().running > 0)))
      abort.abort()
      yield* Effect.promise(() => call)
      assert.isTrue(yield* eventually(Effect.sync(() => server.stats().running === 0)))
      assert.isAtLeast(server.stats().requests.aborted, 1)
      const metrics = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
      assert.match(metrics, /stagebeam_reason_calls_total\{[^}]*method="ChatCompletions"[^}]*outcome="CANCELLED"/)
    }),
  )

  it.live("shares admission with gRPC: a full gateway answers 429", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1, { speed: 1 })
      const { gateway, client } = yield* startGatewayOver(servers, {
        admission: { maxRunningSequences: 4, maxQueued: 0 },
      })
      const image = yield* pngImage()
      // One gRPC search holds every sequence…
      const holder = yield* Effect.forkChild(
        client.Reason({ question: QUESTION, image: { data: image }, search: { candidatesPerStage: 4 } }),
      )
      assert.isTrue(yield* eventually(Effect.sync(() => servers[0]!.stats().running > 0)))
      // …so an HTTP one is refused at once.
      const error = yield* Effect.promise(() =>
        openai(httpUrlOf(gateway))
          .chat.completions.create({ model: MODEL, messages: messagesWith(dataUrl(image)) })
          .then(
            () => undefined,
            (failure: unknown) => failure,
          ),
      )
      assert.instanceOf(error, OpenAI.RateLimitError)
      yield* Fiber.interrupt(holder)
      const metrics = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
      assert.match(
        metrics,
        /stagebeam_reason_calls_total\{[^}]*method="ChatCompletions"[^}]*outcome="RESOURCE_EXHAUSTED"/,
      )
    }),
  )

  it.live("takes the gRPC door's bearer tokens as the API key", () =>
    Effect.gen(function* () {
      const file = join(mkdtempSync(join(tmpdir(), "stagebeam-tokens-")), "tokens")
      writeFileSync(file, "alice:alice-secret\n")
      const { gateway } = yield* startGateway({ auth: { tokensFile: file } })
      const image = dataUrl(yield* pngImage())
      const askWith = (key: string) =>
        Effect.promise(() =>
          ask(openai(httpUrlOf(gateway), key), {
            model: MODEL,
            messages: messagesWith(image),
            stagebeam: { strategy: "greedy" },
          }).then(
            (completion) => completion,
            (failure: unknown) => failure,
          ),
        )
      assert.instanceOf(yield* askWith("nope"), OpenAI.AuthenticationError)
      const answered = (yield* askWith("alice-secret")) as OpenAI.ChatCompletion
      assert.strictEqual(answered.object, "chat.completion")
      const page = yield* Effect.promise(() => fetch(`${httpUrlOf(gateway)}/`))
      assert.strictEqual(page.status, 200, "the page itself is open; its calls carry the token")
      const metrics = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
      assert.match(metrics, /stagebeam_search_gpu_seconds_total\{[^}]*token="alice"[^}]*\} [0-9.e-]*[1-9]/)
    }),
  )

  it.live("serves HTTPS with the gRPC port's certificate, and can be turned off", () =>
    Effect.gen(function* () {
      const { authority, signed } = makeCertificates()
      const ca = authority("test-ca")
      const server = signed("gateway", ca)
      const { gateway } = yield* startGateway({ tls: { cert: server.cert, key: server.key } })
      const url = httpUrlOf(gateway)
      assert.match(url, /^https:/)
      const body = yield* Effect.promise(
        () =>
          new Promise<string>((resolve, reject) => {
            const request = httpsRequest(`${url}/v1/models`, { ca: readFileSync(ca.cert) }, (response) => {
              let text = ""
              response.on("data", (chunk) => {
                text += chunk
              })
              response.on("end", () => resolve(text))
            })
            request.on("error", reject)
            request.end()
          }),
      )
      assert.include(body, MODEL)
      const off = yield* startGateway({ http: { enabled: false } })
      assert.isUndefined(off.gateway.httpUrl)
    }),
  )
})
