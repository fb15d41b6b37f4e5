import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { makeReasonerClient } from "@stagebeam/proto"
import { Effect } from "effect"
import { makeCertificates } from "../../../libs/grpc/test/fixtures/certs.ts"
import { healthOf, pngImage, startGateway } from "./harness.ts"

const QUESTION = "Which shape is shown?\nA. circle\nB. square"

describe("a gateway with bearer tokens", () => {
  it.live("answers UNAUTHENTICATED without a known token, serves a call with one, and keeps health open", () =>
    Effect.gen(function* () {
      const file = join(mkdtempSync(join(tmpdir(), "stagebeam-tokens-")), "tokens")
      writeFileSync(file, "alice:alice-secret\n")
      const { gateway, client } = yield* startGateway({ auth: { tokensFile: file } })
      const request = {
        question: QUESTION,
        image: { data: yield* pngImage() },
        search: { strategy: "STRATEGY_GREEDY" as const },
      }
      const anonymous = yield* Effect.flip(client.Reason(request))
      assert.strictEqual(anonymous.code, 16)
      const wrong = yield* Effect.flip(client.Reason(request, { metadata: { authorization: "Bearer nope" } }))
      assert.strictEqual(wrong.code, 16)
      const answer = yield* client.Reason(request, { metadata: { authorization: "Bearer alice-secret" } })
      assert.isAbove(answer.conclusion.length, 0)
      assert.strictEqual(yield* healthOf(gateway.address, ""), "SERVING")
      const metrics = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
      assert.match(metrics, /stagebeam_reason_calls_total\{[^}]*outcome="UNAUTHENTICATED"[^}]*\} [1-9]/)
      // What a token's calls cost is counted under its name (the token itself never appears).
      assert.match(metrics, /stagebeam_search_tokens_total\{[^}]*token="alice"[^}]*\} [1-9]/)
      assert.notInclude(metrics, "alice-secret")
    }),
  )

  it.live("refuses to start when the token file cannot be used", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(startGateway({ auth: { tokensFile: "/nonexistent/tokens" } }))
      assert.strictEqual(error._tag, "GatewayConfigError")
      assert.include(error.message, "auth.tokensFile: cannot use the token file /nonexistent/tokens")
    }),
  )
})

describe("a gateway with mTLS", () => {
  it.live("serves a client with a certificate its client CA signed, and no client without one", () =>
    Effect.gen(function* () {
      const certs = makeCertificates()
      const ca = certs.authority("ca")
      const server = certs.signed("gateway", ca)
      const user = certs.signed("user", ca)
      const { gateway } = yield* startGateway({ tls: { cert: server.cert, key: server.key, clientCa: ca.cert } })
      const address = `127.0.0.1:${gateway.port}`
      const request = {
        question: QUESTION,
        image: { data: yield* pngImage() },
        search: { strategy: "STRATEGY_GREEDY" as const },
      }
      const trusted = yield* makeReasonerClient({
        address,
        tls: { caFile: ca.cert, certFile: user.cert, keyFile: user.key },
      })
      assert.isAbove((yield* trusted.Reason(request)).conclusion.length, 0)
      const anonymous = yield* makeReasonerClient({ address, tls: { caFile: ca.cert } })
      assert.strictEqual((yield* Effect.flip(anonymous.Reason(request))).code, 14)
      const plaintext = yield* makeReasonerClient({ address })
      assert.strictEqual((yield* Effect.flip(plaintext.Reason(request))).code, 14)
    }),
  )
})
