import { Worker } from "node:worker_threads"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Queue, Redacted } from "effect"
import type { ServerKind } from "../src/Capabilities.ts"
import type { ChatRequest } from "../src/ChatCompletion.ts"
import { OpenAiClient } from "../src/OpenAiClient.ts"
import { completion, fakeServer, json } from "./fakeServer.ts"

const question: ChatRequest = { messages: [{ role: "user", content: [{ type: "text", text: "Which colour is it?" }] }] }

const callOn = (
  url: string,
  request: ChatRequest = question,
  options: { cutAt?: ReadonlyArray<string> } = {},
  kind?: ServerKind,
) =>
  Effect.flatMap(OpenAiClient, (client) =>
    client.chat({ pool: "judge", server: url, model: "m", apiKey: Redacted.make("k"), kind }, request, {
      requestId: "r1",
      timeout: Duration.seconds(5),
      ...options,
    }),
  )

/**
 * A server on its own thread, so that it answers while the test holds the event loop: each request is answered `body`
 * `delayMs` after it arrived, and its arrival is told on `arrived`.
 */
const threadServer = (body: string, delayMs: number) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const arrived = yield* Queue.unbounded<string>()
      const worker = new Worker(
        `const { parentPort, workerData } = require("node:worker_threads")
        const server = require("node:http").createServer((request, response) => {
          request.resume()
          request.on("end", () => {
            parentPort.postMessage({ arrived: request.url })
            setTimeout(() => {
              response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(workerData.body) })
              response.end(workerData.body)
            }, workerData.delayMs)
          })
        })
        server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }))`,
        { eval: true, workerData: { body, delayMs } },
      )
      const port = yield* Effect.callback<number>((resume) => {
        worker.on("message", (message: { port?: number; arrived?: string }) => {
          if (message.port !== undefined) resume(Effect.succeed(message.port))
          if (message.arrived !== undefined) Queue.offerUnsafe(arrived, message.arrived)
        })
      })
      return { url: `http://127.0.0.1:${port}`, arrived: Queue.take(arrived), worker }
    }),
    ({ worker }) => Effect.promise(() => worker.terminate()),
  )

/** Holds the event loop for `ms`, as a long GC pause, a throttled container or a paused VM holds it. */
const stall = (ms: number) =>
  Effect.sync(() => {
    const until = performance.now() + ms
    while (performance.now() < until) {}
  })

describe("OpenAiClient", () => {
  it.live("POSTs to a route beside /v1 with the key and request id; an error answer is an UpstreamError", () =>
    Effect.gen(function* () {
      const server = yield* fakeServer((request, response) => {
        if (request.path === "/pooling")
          return json(response, 200, { object: "list", data: [{ index: 0, data: [0.5] }] })
        // Some servers answer an unsupported route's error with a 200.
        if (request.path === "/score")
          return json(response, 200, { object: "error", message: "no Score API", code: 400 })
        return json(response, 400, { error: { message: "bad input", type: "BadRequestError", code: 400 } })
      })
      const client = yield* OpenAiClient
      const target = { pool: "reward", server: server.url, apiKey: Redacted.make("k") }
      const options = { requestId: "r9", timeout: Duration.seconds(5) }
      const answer = yield* client.post(target, "/pooling", { model: "m", input: ["x"] }, options)
      assert.deepStrictEqual(answer, { object: "list", data: [{ index: 0, data: [0.5] }] })
      assert.strictEqual(server.seen[0]?.headers.authorization, "Bearer k")
      assert.strictEqual(server.seen[0]?.headers["x-request-id"], "r9")
      assert.deepStrictEqual(server.seen[0]?.body, { model: "m", input: ["x"] })
      const inBody = yield* Effect.flip(client.post(target, "/score", {}, options))
      assert.strictEqual(inBody.status, 400)
      assert.include(inBody.message, "no Score API")
      assert.isFalse(inBody.retryable)
      const refused = yield* Effect.flip(client.post(target, "/other", {}, options))
      assert.strictEqual(refused.status, 400)
      assert.include(refused.message, "bad input")
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("sends the pool's API key as a bearer token, and no Authorization header without one", () =>
    Effect.gen(function* () {
      const server = yield* fakeServer((_, response) => json(response, 200, completion(["hi"])))
      const client = yield* OpenAiClient
      const call = (apiKey: Redacted.Redacted<string> | undefined) =>
        client.chat({ pool: "p", server: server.url, model: "m", apiKey }, question, {
          requestId: "r1",
          timeout: Duration.seconds(5),
        })
      yield* call(Redacted.make("secret-key"))
      yield* call(undefined)
      assert.strictEqual(server.seen[0]?.headers.authorization, "Bearer secret-key")
      assert.strictEqual(server.seen[0]?.headers["x-request-id"], "r1")
      assert.isUndefined(server.seen[1]?.headers.authorization)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("reads the server's message from every error shape: vLLM's two, SGLang's, a key refusal, text, HTML", () =>
    Effect.gen(function* () {
      const pages: Record<string, (response: import("node:http").ServerResponse) => void> = {
        nested: (r) => json(r, 400, { error: { message: "context too long", type: "BadRequestError", code: 400 } }),
        flat: (r) => json(r, 400, { object: "error", message: "bad n", type: "Bad Request", param: null, code: 400 }),
        key: (r) => json(r, 401, { error: "Unauthorized" }),
        text: (r) => r.writeHead(503, { "content-type": "text/plain" }).end("upstream connect error\n"),
        html: (r) =>
          r
            .writeHead(502, { "content-type": "text/html" })
            .end(
              "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>",
            ),
      }
      const seen: Record<string, { message: string; retryable: boolean; status: number | undefined }> = {}
      for (const [name, page] of Object.entries(pages)) {
        const server = yield* fakeServer((_, response) => page(response))
        const error = yield* Effect.flip(callOn(server.url))
        seen[name] = { message: error.message, retryable: error.retryable, status: error.status }
      }
      assert.deepStrictEqual(seen.nested, { message: "context too long", retryable: false, status: 400 })
      assert.deepStrictEqual(seen.flat, { message: "bad n", retryable: false, status: 400 })
      assert.deepStrictEqual(seen.key, {
        message: "the server refused the judge pool's API key (401: Unauthorized)",
        retryable: false,
        status: 401,
      })
      assert.deepStrictEqual(seen.text, { message: "upstream connect error", retryable: true, status: 503 })
      assert.deepStrictEqual(seen.html, { message: "502 Bad Gateway", retryable: true, status: 502 })
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("an answer that is not a completion is malformed (and worth another try), not a connection error", () =>
    Effect.gen(function* () {
      const broken = yield* fakeServer((_, r) =>
        r.writeHead(200, { "content-type": "application/json" }).end('{"id": '),
      )
      const page = yield* fakeServer((_, r) => r.writeHead(200, { "content-type": "text/html" }).end("<html>hi</html>"))
      for (const server of [broken, page]) {
        const error = yield* Effect.flip(callOn(server.url))
        assert.strictEqual(error.kind, "malformed")
        assert.isTrue(error.retryable)
      }
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("without a usage block, counts come from the Llama 3 tokenizer, marked as estimated", () =>
    Effect.gen(function* () {
      const server = yield* fakeServer((_, r) => json(r, 200, completion(["The umbrella is red."], { usage: false })))
      const result = yield* callOn(server.url)
      // "The umbrella is red." is 5 Llama 3 tokens; the prompt is its text plus the template's markers.
      assert.deepStrictEqual(result.usage, { prompt_tokens: 1 + 5 + 5, completion_tokens: 5, estimated: true })
      const reported = yield* fakeServer((_, r) => json(r, 200, completion(["x"])))
      assert.isUndefined((yield* callOn(reported.url)).usage.estimated)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("applies stop strings the server ignored, and puts back one it trimmed though asked to keep it", () =>
    Effect.gen(function* () {
      const staged: ChatRequest = { ...question, stop: ["</SUMMARY>"], include_stop_str_in_output: true }
      const ignoring = yield* fakeServer((_, r) =>
        json(r, 200, completion(["<SUMMARY>plan</SUMMARY>\n\n<CAPTION>more</CAPTION>"])),
      )
      const cut = yield* callOn(ignoring.url, staged)
      assert.strictEqual(cut.choices[0]?.message.content, "<SUMMARY>plan</SUMMARY>")
      assert.strictEqual(cut.choices[0]?.stop_reason, "</SUMMARY>")
      const trimming = yield* fakeServer((_, r) =>
        json(r, 200, completion(["<SUMMARY>plan"], { choice: { matched_stop: "</SUMMARY>" } })),
      )
      const sglang = yield* callOn(trimming.url, staged, {}, "sglang")
      assert.strictEqual(sglang.choices[0]?.message.content, "<SUMMARY>plan</SUMMARY>")
      // A sample that ended without its stop string (EOS, or cut by length) stays as it is.
      const ended = yield* fakeServer((_, r) => json(r, 200, completion(["<SUMMARY>plan"])))
      assert.strictEqual((yield* callOn(ended.url, staged)).choices[0]?.message.content, "<SUMMARY>plan")
      // include_stop_str_in_output is vLLM's: a server known to be another kind is not sent it.
      assert.notProperty(trimming.seen[0]?.body ?? {}, "include_stop_str_in_output")
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("with cutAt, streams and hangs up as soon as the sample has written the stop string", () =>
    Effect.gen(function* () {
      const pieces = ["<SUMMARY>", "plan", "</SUMMARY>", "\n\n<CAPTION>", "more", "</CAPTION>"]
      const server = yield* fakeServer((_, response) => {
        response.writeHead(200, { "content-type": "text/event-stream" })
        let i = 0
        const timer = setInterval(() => {
          if (response.destroyed || i >= pieces.length) {
            clearInterval(timer)
            if (!response.destroyed) response.end("data: [DONE]\n\n")
            return
          }
          const chunk = {
            id: "c",
            model: "m",
            choices: [{ index: 0, delta: { content: pieces[i++] }, finish_reason: null }],
          }
          response.write(`data: ${JSON.stringify(chunk)}\n\n`)
        }, 30)
      })
      const result = yield* callOn(
        server.url,
        { ...question, stop: ["</SUMMARY>"], include_stop_str_in_output: true },
        {
          cutAt: ["</SUMMARY>"],
        },
      )
      assert.strictEqual(result.choices[0]?.message.content, "<SUMMARY>plan</SUMMARY>")
      assert.strictEqual(result.choices[0]?.finish_reason, "stop")
      assert.isTrue(result.usage.estimated)
      assert.strictEqual(server.seen[0]?.body.stream, true)
      yield* Effect.sleep("100 millis")
      assert.strictEqual(server.closedEarly(), 1)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("an answer that came in while the process stalled past the deadline is read, not judged late", () =>
    Effect.gen(function* () {
      const client = yield* OpenAiClient
      const server = yield* threadServer(JSON.stringify(completion(["in time"])), 50)
      const target = { pool: "generator", server: server.url, model: "m", apiKey: undefined }
      const call = yield* Effect.forkChild(
        client.chat(target, question, { requestId: "r1", timeout: Duration.millis(600) }),
      )
      assert.strictEqual(yield* server.arrived, "/v1/chat/completions")
      // The answer comes in 50 ms into the stall; the deadline passes during it (600 ms after the call began, 1 s stall).
      yield* stall(1000)
      const answer = yield* Fiber.join(call)
      assert.strictEqual(answer.choices[0]?.message.content, "in time")
      // A health probe likewise: a server that answered its /health during the stall is up.
      const probe = yield* Effect.forkChild(client.health(target, Duration.millis(600)))
      assert.strictEqual(yield* server.arrived, "/health")
      yield* stall(1000)
      assert.isTrue(yield* Fiber.join(probe))
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("a try past its deadline fails as a timeout that names the deadline", () =>
    Effect.gen(function* () {
      const silent = yield* fakeServer((_, response) => {
        const timer = setTimeout(() => json(response, 200, completion(["late"])), 10_000)
        response.on("close", () => clearTimeout(timer))
      })
      const client = yield* OpenAiClient
      const error = yield* Effect.flip(
        client.chat({ pool: "generator", server: silent.url, model: "m", apiKey: undefined }, question, {
          requestId: "r1",
          timeout: Duration.millis(300),
        }),
      )
      assert.strictEqual(error.kind, "timeout")
      assert.strictEqual(error.server, silent.url)
      assert.include(error.message, `no answer within ${Duration.format(Duration.millis(300))} (this try's deadline)`)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("a server without /health is up when /v1/models answers, even refusing the key", () =>
    Effect.gen(function* () {
      const client = yield* OpenAiClient
      const noHealth = yield* fakeServer((request, r) =>
        request.path === "/v1/models" ? json(r, 401, { error: "Unauthorized" }) : json(r, 404, { detail: "Not Found" }),
      )
      // A server that guards every path, /health included, with its key.
      const guarded = yield* fakeServer((_, r) => json(r, 401, { error: { message: "Incorrect API key provided." } }))
      const dead = yield* fakeServer((_, r) => json(r, 503, {}))
      const health = (server: string) => client.health({ pool: "p", server, apiKey: undefined }, Duration.seconds(2))
      assert.isTrue(yield* health(noHealth.url))
      assert.isTrue(yield* health(guarded.url))
      assert.isFalse(yield* health(dead.url))
      assert.isFalse(yield* health("http://127.0.0.1:1"))
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("a long image URL is encoded once and spliced into each request's body, byte for byte as sent", () =>
    Effect.gen(function* () {
      const server = yield* fakeServer((request, response) =>
        request.path === "/pooling"
          ? json(response, 200, { object: "list", data: [{ index: 0, data: [0.5] }] })
          : json(response, 200, completion(["ok"])),
      )
      const client = yield* OpenAiClient
      // Over the splicing threshold, with characters JSON must escape.
      const url = `data:image/png;base64,${"QUJD".repeat(40_000)}"\\\u2028`
      const longImage: ChatRequest = {
        messages: [
          {
            role: "user",
            content: [
              { type: "image_url", image_url: { url } },
              { type: "text", text: "stagebeam-image- is only text here" },
            ],
          },
        ],
      }
      for (let i = 0; i < 3; i++) yield* callOn(server.url, longImage)
      yield* client.post(
        { pool: "reward", server: server.url, apiKey: undefined },
        "/pooling",
        { model: "m", messages: longImage.messages },
        { requestId: "r2", timeout: Duration.seconds(5) },
      )
      assert.strictEqual(server.seen.length, 4)
      for (const seen of server.seen) assert.deepStrictEqual(seen.body.messages, longImage.messages)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )
})
