import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { loadProto, makeClient, parseTokens, watchTokenFile, withBearerTokens } from "../src/index.ts"
import {
  echoImplementation,
  echoService,
  healthProtoPath,
  type SayReply,
  type SayRequest,
  startEcho,
} from "./fixtures/echo.ts"

const TOKENS = ["ops:open-sesame", "ci:ci-token:concurrency=1,methods=Say"].join("\n")

const serveWithTokens = (tokens: Effect.Effect<ReturnType<typeof parseTokens>>) =>
  Effect.gen(function* () {
    const implementation = yield* withBearerTokens(echoImplementation, tokens)
    return yield* startEcho({ services: [{ name: echoService, implementation }] })
  })

describe("bearer tokens", () => {
  it.live("a call needs a known token; a token may be limited to methods and to calls at once", () =>
    Effect.gen(function* () {
      const { server, client, probe } = yield* serveWithTokens(Effect.succeed(parseTokens(TOKENS)))
      const say = (authorization: string | undefined, mode: SayRequest["mode"] = "ok") =>
        client.unary<SayRequest, SayReply>(
          "Say",
          { text: "hi", mode },
          authorization === undefined ? {} : { metadata: { authorization } },
        )
      assert.strictEqual((yield* Effect.flip(say(undefined))).code, 16)
      assert.strictEqual((yield* Effect.flip(say("Bearer wrong"))).code, 16)
      assert.strictEqual((yield* Effect.flip(say("Basic open-sesame"))).code, 16)
      assert.strictEqual((yield* say("Bearer open-sesame")).text, "hi")

      const denied = yield* Effect.flip(
        client
          .unary("Count", { n: 1, payload_bytes: 1, mode: "ok" }, { metadata: { authorization: "Bearer ci-token" } })
          .pipe(Effect.scoped),
      )
      assert.strictEqual(denied.code, 7)
      assert.include(denied.message, "ci may not call Count")

      const first = yield* Effect.forkChild(say("Bearer ci-token", "gate"))
      yield* Deferred.await(probe.started)
      const busy = yield* Effect.flip(say("Bearer ci-token"))
      assert.strictEqual(busy.code, 8)
      assert.include(busy.message, "at most 1 calls at once")
      yield* Deferred.succeed(probe.gate, undefined)
      yield* Fiber.join(first)
      assert.strictEqual((yield* say("Bearer ci-token")).text, "hi")

      // Health stays open without a token.
      const health = yield* makeClient({
        address: server.address,
        packageDefinition: yield* loadProto(healthProtoPath),
        service: "grpc.health.v1.Health",
      })
      const status = yield* health.unary<{ service: string }, { status: string }>("Check", { service: "" })
      assert.strictEqual(status.status, "SERVING")
    }),
  )

  it.live("a token file is reloaded when it changes: new tokens work, revoked ones stop", () =>
    Effect.gen(function* () {
      const file = join(mkdtempSync(join(tmpdir(), "stagebeam-tokens-")), "tokens")
      writeFileSync(file, "old:old-token\n")
      const tokens = yield* watchTokenFile(file, "50 millis")
      const { client } = yield* serveWithTokens(tokens)
      const say = (token: string) =>
        client.unary<SayRequest, SayReply>(
          "Say",
          { text: "hi", mode: "ok" },
          { metadata: { authorization: `Bearer ${token}` } },
        )
      assert.strictEqual((yield* say("old-token")).text, "hi")
      yield* Effect.sleep("20 millis")
      writeFileSync(file, "new:new-token\n")
      let switched = false
      for (let i = 0; i < 100 && !switched; i++) {
        yield* Effect.sleep("50 millis")
        switched = yield* say("new-token").pipe(
          Effect.as(true),
          Effect.orElseSucceed(() => false),
        )
      }
      assert.isTrue(switched)
      assert.strictEqual((yield* Effect.flip(say("old-token"))).code, 16)
    }),
  )

  it("a malformed token file is refused by line number, without the secret", () => {
    assert.throws(() => parseTokens("ok:token\nnot a token line"), /line 2 is not name:token/)
    assert.throws(() => parseTokens("a:secret-value:speed=9"), /line 1 has an unknown option/)
    try {
      parseTokens("a:secret-value:speed=9")
    } catch (error) {
      assert.notInclude(String(error), "secret-value")
    }
    assert.deepStrictEqual(
      parseTokens("# comment\n\nbot:t:concurrency=2").map((token) => [token.name, token.maxConcurrent]),
      [["bot", 2]],
    )
  })
})
