import { createServer, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Redacted } from "effect"
import type { ChatRequest } from "../src/ChatCompletion.ts"
import { UpstreamError } from "../src/FleetError.ts"
import { defaultTransportLimits } from "../src/LeanTransport.ts"
import { OpenAiClient } from "../src/OpenAiClient.ts"
import { completion, fakeServer, json } from "./fakeServer.ts"

/**
 * Upstream answers are untrusted input (issue #22): a server that answers without end, too much, or lies about what
 * it answered costs the gateway bounded memory and the call a clear error naming the server.
 */

const MB = 1024 * 1024
const question: ChatRequest = { messages: [{ role: "user", content: [{ type: "text", text: "Which colour?" }] }] }

/**
 * A loopback server that sends `total` bytes (Infinity: without end) after `head`, made as it goes (never held),
 * at the pace the client reads; it counts what it managed to send before the client hung up.
 */
const floodServer = (status: number, contentType: string, chunk: Buffer, total: number) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly url: string; readonly sent: () => number; readonly hungUp: () => boolean }>((resume) => {
      let sent = 0
      let hungUp = false
      const server = createServer((request, response: ServerResponse) => {
        request.resume()
        request.on("end", () => {
          response.writeHead(status, {
            "content-type": contentType,
            ...(Number.isFinite(total) ? { "content-length": String(total) } : {}),
          })
          response.on("close", () => {
            if (!response.writableFinished) hungUp = true
          })
          const pump = () => {
            while (!response.destroyed && sent < total) {
              const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent)
              sent += piece.length
              if (!response.write(piece)) return void response.once("drain", pump)
            }
            if (!response.destroyed) response.end()
          }
          pump()
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            sent: () => sent,
            hungUp: () => hungUp,
            close: () => server.close(),
          }),
        ),
      )
      return Effect.sync(() => server.close())
    }),
    () => Effect.void,
  )

const chatOn = (server: string, request: ChatRequest = question, options: { cutAt?: ReadonlyArray<string> } = {}) =>
  Effect.flatMap(OpenAiClient, (client) =>
    client.chat({ pool: "generator", server, model: "m", apiKey: Redacted.make("k") }, request, {
      requestId: "r1",
      timeout: Duration.seconds(20),
      ...options,
    }),
  )

const assertNamesServer = (error: unknown, server: string, words: string) => {
  assert.instanceOf(error, UpstreamError)
  const upstream = error as UpstreamError
  assert.strictEqual(upstream.server, server)
  assert.strictEqual(upstream.pool, "generator")
  assert.include(upstream.message, words)
}

describe("hostile upstream servers", () => {
  it.live(
    "a 300 MB answer is read no further than the body limit: the call fails naming the server, the socket is closed",
    () =>
      Effect.gen(function* () {
        const flood = yield* floodServer(200, "application/json", Buffer.alloc(64 * 1024, 0x20), 300 * MB)
        const error = yield* Effect.flip(chatOn(flood.url))
        assertNamesServer(error, flood.url, `longer than ${defaultTransportLimits.maxBodyBytes} bytes`)
        assert.strictEqual((error as UpstreamError).kind, "malformed")
        yield* Effect.sleep("100 millis")
        assert.isTrue(flood.hungUp())
        // What the server could push is the limit and the sockets' buffers, not the 300 MB.
        assert.isBelow(flood.sent(), defaultTransportLimits.maxBodyBytes + 16 * MB)
      }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("an endless event stream ends at the stream limit with an error naming the server", () =>
    Effect.gen(function* () {
      const event = `data: ${JSON.stringify({ id: "c", model: "m", choices: [{ index: 0, delta: { content: "x" }, finish_reason: null }] })}\n\n`
      const endless = yield* floodServer(200, "text/event-stream", Buffer.from(event.repeat(200)), Infinity)
      const error = yield* Effect.flip(chatOn(endless.url, question, { cutAt: ["</SUMMARY>"] }))
      assertNamesServer(error, endless.url, "longer than 1048576 bytes")
      yield* Effect.sleep("100 millis")
      assert.isTrue(endless.hungUp())
      assert.isBelow(endless.sent(), 17 * MB)
    }).pipe(Effect.provide(OpenAiClient.layerWith({ ...defaultTransportLimits, maxStreamBytes: MB }))),
  )

  it.live("an endless stream of one line (no event ever completes) ends at the same limit", () =>
    Effect.gen(function* () {
      const line = yield* floodServer(200, "text/event-stream", Buffer.from(`data: ${"y".repeat(64 * 1024)}`), Infinity)
      const error = yield* Effect.flip(chatOn(line.url, question, { cutAt: ["</SUMMARY>"] }))
      assertNamesServer(error, line.url, "longer than 1048576 bytes")
      assert.isBelow(line.sent(), 17 * MB)
    }).pipe(Effect.provide(OpenAiClient.layerWith({ ...defaultTransportLimits, maxStreamBytes: MB }))),
  )

  it.live("a stream that writes past max_tokens is cut off with an error naming the server", () =>
    Effect.gen(function* () {
      const event = `data: ${JSON.stringify({ id: "c", model: "m", choices: [{ index: 0, delta: { content: "x" }, finish_reason: null }] })}\n\n`
      const endless = yield* floodServer(200, "text/event-stream", Buffer.from(event), Infinity)
      const error = yield* Effect.flip(chatOn(endless.url, { ...question, max_tokens: 50 }, { cutAt: ["</SUMMARY>"] }))
      assertNamesServer(error, endless.url, "more than max_tokens (50)")
      yield* Effect.sleep("100 millis")
      assert.isTrue(endless.hungUp())
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("a 50 MB error message is cut: the caller sees a line of it, the rest is never read", () =>
    Effect.gen(function* () {
      const flood = yield* floodServer(500, "text/plain", Buffer.alloc(64 * 1024, 0x61), 50 * MB)
      const error = yield* Effect.flip(chatOn(flood.url))
      assertNamesServer(error, flood.url, "aaaa")
      assert.strictEqual((error as UpstreamError).status, 500)
      assert.isAtMost((error as UpstreamError).message.length, 301)
      yield* Effect.sleep("100 millis")
      assert.isTrue(flood.hungUp())
      assert.isBelow(flood.sent(), 16 * MB)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("a 180 MB /metrics page is no load report, read no further than its limit", () =>
    Effect.gen(function* () {
      const line = Buffer.from("vllm:num_requests_running 1\n".repeat(2000))
      const flood = yield* floodServer(200, "text/plain", line, 180 * MB)
      const client = yield* OpenAiClient
      assert.isUndefined(yield* client.serverLoad(flood.url, Duration.seconds(10)))
      yield* Effect.sleep("100 millis")
      assert.isTrue(flood.hungUp())
      assert.isBelow(flood.sent(), defaultTransportLimits.maxMetricsBytes + 16 * MB)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("answers that do not fit the request are refused, naming the server: choices, indices, token counts", () =>
    Effect.gen(function* () {
      const lies = [
        { answer: completion(Array.from({ length: 5000 }, () => "a")), words: "5000 choices where 4 were asked for" },
        {
          answer: { ...completion(["a", "b", "c", "d"]), usage: { prompt_tokens: 3, completion_tokens: -4 } },
          words: "completion_tokens (-4) is not a count",
        },
        {
          answer: { ...completion(["a", "b", "c", "d"]), usage: { prompt_tokens: 3, completion_tokens: 1e308 } },
          words: "completion_tokens (1e+308) is not a count within 0..464",
        },
        {
          answer: { ...completion(["a", "b", "c", "d"]), usage: { prompt_tokens: 1e308, completion_tokens: 4 } },
          words: "prompt_tokens (1e+308) is not a count",
        },
        {
          answer: {
            ...completion(["a", "b"]),
            choices: completion(["a", "b"]).choices.map((c) => ({ ...c, index: 7 })),
          },
          words: "choice index 7 is not one of the 4 asked for",
        },
      ]
      let next = 0
      const server = yield* fakeServer((_, response) => json(response, 200, lies[next++]!.answer))
      for (const lie of lies) {
        const error = yield* Effect.flip(chatOn(server.url, { ...question, n: 4, max_tokens: 100 }))
        assertNamesServer(error, server.url, lie.words)
        assert.isTrue((error as UpstreamError).retryable)
      }
      // An honest answer on the same transport still passes.
      const honest = yield* fakeServer((_, response) => json(response, 200, completion(["a", "b", "c", "d"])))
      const answer = yield* chatOn(honest.url, { ...question, n: 4, max_tokens: 100 })
      assert.strictEqual(answer.choices.length, 4)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("interrupting a non-streamed call closes its connection, which is how the server hears to stop", () =>
    Effect.gen(function* () {
      // Answers only after a long while, if the client is still there.
      const slow = yield* fakeServer((_, response) => {
        const timer = setTimeout(() => json(response, 200, completion(["late"])), 10_000)
        response.on("close", () => clearTimeout(timer))
      })
      const call = yield* Effect.forkChild(chatOn(slow.url))
      yield* Effect.sleep("200 millis")
      yield* Fiber.interrupt(call)
      yield* Effect.sleep("200 millis")
      assert.strictEqual(slow.closedEarly(), 1)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("calls answered in full keep their connections for the next calls (keep-alive)", () =>
    Effect.gen(function* () {
      const sockets = new Set<unknown>()
      const server = yield* fakeServer((_, response) => {
        sockets.add(response.socket)
        json(response, 200, completion(["ok"]))
      })
      for (let i = 0; i < 10; i++) yield* chatOn(server.url)
      // One, or two when the second call is sent before the first's socket is handed back: never one per call.
      assert.isAtMost(sockets.size, 2)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )
})
