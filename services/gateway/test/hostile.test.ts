import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ReasonRequest } from "@stagebeam/proto"
import { Cause, Effect, Exit, Fiber } from "effect"
import {
  chatBody,
  hugeQuestionChat,
  JSON_HEADERS,
  longGrpcFields,
  longHttpFields,
  longImageUrlChat,
  MB,
  ordinaryChat,
  ordinaryReason,
  peakRss,
  QUESTION,
  type RawRequest,
  sendRaw,
} from "../src/dev/HostileInputs.ts"
import { startGatewayProcess, startGatewayProcessOver, startSimulators } from "./harness.ts"

/**
 * The hostile-input battery: a real gateway process (default settings but its ports) over a simulated server, sent
 * what a careless or hostile caller sends — every field far too long on both doors, cross-origin and rebinding
 * requests, signals under load. Each case must get a clear error (the field named), the gateway must keep its memory
 * bounded, and answer an ordinary call afterwards. How long the event loop is held, and how long a refusal takes,
 * are figures of bench/hostile.ts (the same inputs, src/dev/HostileInputs.ts), not assertions here.
 */

/** The Kubernetes base's memory limit for the gateway (deploy/): the battery's RSS bound. */
const MEMORY_LIMIT = 1024 * MB

const send = (url: string, options: RawRequest = {}) => Effect.promise(() => sendRaw(url, options))

const SECURITY_HEADERS = ["content-security-policy", "x-content-type-options", "referrer-policy"]

describe("the hostile-input battery (a gateway process)", () => {
  it.live(
    "long inputs of every field on both doors, cross-origin posts and forged hosts: clear errors, bounded memory, and the gateway still answers",
    () =>
      Effect.gen(function* () {
        const servers = yield* startSimulators(1, { speed: 200 })
        const { process, client, http } = yield* startGatewayProcessOver(servers)
        const pid = process.child.pid!
        const chat = `${http}/v1/chat/completions`
        // Warm-up: the first calls wait for the pool's first probe.
        let ordinary = yield* send(chat, ordinaryChat)
        for (let tries = 0; tries < 20 && ordinary.status !== 200; tries++) {
          yield* Effect.sleep("500 millis")
          ordinary = yield* send(chat, ordinaryChat)
        }
        assert.strictEqual(ordinary.status, 200, ordinary.body)

        // A 20 MB question on the HTTP door, with ordinary calls on both doors around it.
        const alongside = yield* Effect.forkChild(
          Effect.all([send(chat, ordinaryChat), client.Reason(ordinaryReason)], { concurrency: 2 }),
        )
        const huge = yield* send(chat, hugeQuestionChat(20 * MB))
        assert.strictEqual(huge.status, 400, huge.body.slice(0, 500))
        assert.include(huge.body, "messages[0].content")
        assert.isBelow(huge.body.length, 4096)
        const [beside, besideGrpc] = yield* Fiber.join(alongside)
        assert.strictEqual(beside.status, 200, beside.body)
        assert.isAbove(besideGrpc.conclusion.length, 0)

        // Every text field of the HTTP body, far too long: 400 naming it, a short body.
        const long = "y".repeat(MB)
        for (const [body, param] of longHttpFields(long)) {
          const answer = yield* send(chat, { method: "POST", headers: JSON_HEADERS, body })
          assert.strictEqual(answer.status, 400, `${param}: ${answer.body.slice(0, 300)}`)
          assert.include(JSON.parse(answer.body).error.param, param, answer.body.slice(0, 300))
          assert.isBelow(answer.body.length, 4096, param)
        }
        // An image URL of a megabyte: refused as a client error, not a crash.
        const longUrl = yield* send(chat, longImageUrlChat(long))
        assert.strictEqual(longUrl.status, 400, longUrl.body.slice(0, 300))
        assert.isBelow(longUrl.body.length, 4096)

        // The same on the gRPC door: INVALID_ARGUMENT naming the field, never RESOURCE_EXHAUSTED for an echoed input.
        for (const [request, field] of longGrpcFields(long)) {
          const error = yield* Effect.flip(client.Reason(request))
          assert.strictEqual(error.statusName, "INVALID_ARGUMENT", `${field}: ${error.message.slice(0, 300)}`)
          assert.include(error.message, field)
          assert.isBelow(error.message.length, 4096)
        }
        // 20 MB on the gRPC door too.
        const tooBig = yield* Effect.flip(client.Reason({ question: "x".repeat(20 * MB) }))
        assert.strictEqual(tooBig.statusName, "INVALID_ARGUMENT")
        assert.include(tooBig.message, "question")
        assert.include(tooBig.message, "at most 16384")
        assert.isBelow(tooBig.message.length, 4096)

        // Browser defaults: a cross-origin text/plain post (no preflight) and a cross-origin JSON post are refused,
        // JSON only as application/json, a forged Host (DNS rebinding) refused, the security headers on every answer.
        const crossSite = yield* send(chat, {
          method: "POST",
          headers: { "content-type": "text/plain", origin: "http://evil.example" },
          body: chatBody(),
        })
        assert.strictEqual(crossSite.status, 403, crossSite.body)
        assert.include(crossSite.body, "cross-origin")
        const crossJson = yield* send(chat, {
          method: "POST",
          headers: { ...JSON_HEADERS, origin: "http://evil.example" },
          body: chatBody(),
        })
        assert.strictEqual(crossJson.status, 403, crossJson.body)
        const plain = yield* send(chat, { method: "POST", headers: { "content-type": "text/plain" }, body: chatBody() })
        assert.strictEqual(plain.status, 415, plain.body)
        assert.include(plain.body, "application/json")
        const rebound = yield* send(`${http}/v1/models`, { headers: { host: "attacker.example:8080" } })
        assert.strictEqual(rebound.status, 403, rebound.body)
        assert.include(rebound.body, "http.allowedHosts")
        const sameOrigin = yield* send(chat, {
          method: "POST",
          headers: { ...JSON_HEADERS, origin: http },
          body: chatBody(),
        })
        assert.strictEqual(sameOrigin.status, 200, sameOrigin.body)
        const routes = [
          yield* send(`${http}/`),
          yield* send(`${http}/page.js`),
          yield* send(`${http}/page.css`),
          yield* send(`${http}/v1/models`),
          yield* send(`${http}/v1/judges`),
          yield* send(`${http}/nowhere`),
          yield* send(chat, { method: "POST", headers: JSON_HEADERS, body: "{not json" }),
          ordinary,
          crossSite,
          plain,
          rebound,
        ]
        for (const answer of routes) {
          for (const header of SECURITY_HEADERS) assert.isDefined(answer.headers[header], `${answer.status} ${header}`)
          assert.include(String(answer.headers["content-security-policy"]), "frame-ancestors 'none'")
        }

        // Still answering, memory under the pod's limit.
        const after = yield* client.Reason(ordinaryReason)
        assert.isAbove(after.conclusion.length, 0)
        assert.isBelow(peakRss(pid), MEMORY_LIMIT)
      }),
    90_000,
  )

  it.live(
    "SIGHUP under load loses nothing; SIGTERM serves the queued calls that fit the drain window and exits 0",
    () =>
      Effect.gen(function* () {
        // Four sequences at once: two calls of two candidates run, the rest wait for admission.
        const servers = yield* startSimulators(1, { speed: 20, maxNumSeqs: 4 })
        const { process, client, http } = yield* startGatewayProcessOver(servers, { STAGEBEAM_DRAIN_TIMEOUT: "60s" })
        const request: ReasonRequest = { question: QUESTION, search: { candidatesPerStage: 2 } }
        const load = (calls: number) =>
          Effect.forkChild(
            Effect.all(
              Array.from({ length: calls }, () => Effect.result(client.Reason(request))),
              { concurrency: "unbounded" },
            ),
          )

        const underHangup = yield* load(6)
        yield* Effect.sleep("500 millis")
        process.child.kill("SIGHUP")
        yield* Effect.sleep("200 millis")
        process.child.kill("SIGHUP")
        const hangupResults = yield* Fiber.join(underHangup)
        for (const result of hangupResults) assert.strictEqual(result._tag, "Success", JSON.stringify(result))
        assert.strictEqual(process.child.exitCode, null)
        assert.include(process.output(), "SIGHUP ignored")
        const stillServing = yield* send(`${http}/v1/models`)
        assert.strictEqual(stillServing.status, 200)

        const underTerm = yield* load(6)
        yield* Effect.sleep("700 millis")
        process.child.kill("SIGTERM")
        const termResults = yield* Fiber.join(underTerm)
        for (const result of termResults) assert.strictEqual(result._tag, "Success", JSON.stringify(result))
        assert.strictEqual(yield* Effect.promise(() => process.exited), 0)
      }),
    90_000,
  )

  it.live(
    "refused logins are logged without the token, and no log line holds an endpoint's password",
    () =>
      Effect.gen(function* () {
        const servers = yield* startSimulators(1, { speed: 200 })
        const file = join(mkdtempSync(join(tmpdir(), "stagebeam-tokens-")), "tokens")
        writeFileSync(file, "alice:alice-secret-4711\n")
        const { process, client, http } = yield* startGatewayProcessOver(servers, { STAGEBEAM_AUTH_TOKENS_FILE: file })
        const refused = yield* Effect.flip(
          client.Reason({ question: QUESTION }, { metadata: { authorization: "Bearer guessed-token-0815" } }),
        )
        assert.strictEqual(refused.statusName, "UNAUTHENTICATED")
        const refusedHttp = yield* send(`${http}/v1/models`, {
          headers: { authorization: "Bearer guessed-token-0815" },
        })
        assert.strictEqual(refusedHttp.status, 401)
        yield* Effect.sleep("300 millis")
        const log = process.output()
        assert.include(log, "call refused by the token gate")
        assert.notInclude(log, "guessed-token-0815")
        assert.notInclude(log, "alice-secret-4711")

        // A settings mistake with a password in an endpoint URL: the gateway stops, saying why, without the password.
        const exit = yield* Effect.exit(
          Effect.scoped(startGatewayProcess({ STAGEBEAM_ENDPOINTS: "http://admin:hunter2-secret@127.0.0.1:1" })),
        )
        assert.isTrue(Exit.isFailure(exit))
        const told = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
        assert.include(told, "credentials")
        assert.notInclude(told, "hunter2-secret")
      }),
    60_000,
  )
})
