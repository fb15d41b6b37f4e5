import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted } from "effect"
import { OpenAiClient } from "../src/OpenAiClient.ts"

/** A loopback server that answers every chat completion and remembers the headers it was sent. */
const recordingServer = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly seen: Array<IncomingHttpHeaders>; readonly close: () => void }>(
    (resume) => {
      const seen: Array<IncomingHttpHeaders> = []
      const server = createServer((request, response) => {
        seen.push(request.headers)
        request.resume()
        request.on("end", () =>
          response.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({
              id: "c",
              model: "m",
              choices: [{ index: 0, message: { content: "hi" }, finish_reason: "stop" }],
              usage: { prompt_tokens: 1, completion_tokens: 1 },
            }),
          ),
        )
      })
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            seen,
            close: () => server.close(),
          }),
        ),
      )
    },
  ),
  (server) => Effect.sync(server.close),
)

describe("OpenAiClient", () => {
  it.live("sends the pool's API key as a bearer token, and no Authorization header without one", () =>
    Effect.gen(function* () {
      const server = yield* recordingServer
      const client = yield* OpenAiClient
      const call = (apiKey: Redacted.Redacted<string> | undefined) =>
        client.chat(
          { pool: "p", server: server.url, model: "m", apiKey },
          { messages: [{ role: "user", content: [{ type: "text", text: "q" }] }] },
          { requestId: "r1", timeout: Duration.seconds(5) },
        )
      yield* call(Redacted.make("secret-key"))
      yield* call(undefined)
      assert.strictEqual(server.seen[0]?.authorization, "Bearer secret-key")
      assert.strictEqual(server.seen[0]?.["x-request-id"], "r1")
      assert.isUndefined(server.seen[1]?.authorization)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )
})
