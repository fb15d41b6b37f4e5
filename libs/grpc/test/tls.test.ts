import { copyFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeClient } from "../src/index.ts"
import { makeCertificates } from "./fixtures/certs.ts"
import { echoService, type SayReply, type SayRequest, startEcho } from "./fixtures/echo.ts"

const say = (
  address: string,
  packageDefinition: Parameters<typeof makeClient>[0]["packageDefinition"],
  tls?: Parameters<typeof makeClient>[0]["tls"],
) =>
  Effect.gen(function* () {
    const client = yield* makeClient({
      address,
      packageDefinition,
      service: echoService,
      defaultDeadline: "5 seconds",
      ...(tls === undefined ? {} : { tls }),
    }).pipe(Effect.orDie)
    return yield* client.unary<SayRequest, SayReply>("Say", { text: "hi", mode: "ok" })
  }).pipe(Effect.scoped)

describe("TLS", () => {
  it.live("serves TLS: a client that trusts the CA is answered, a plaintext one is not", () =>
    Effect.gen(function* () {
      const certs = makeCertificates()
      const ca = certs.authority("ca")
      const server = certs.signed("server", ca)
      const { server: running, packageDefinition } = yield* startEcho({
        tls: { certFile: server.cert, keyFile: server.key },
      })
      const address = `127.0.0.1:${running.port}`
      assert.strictEqual((yield* say(address, packageDefinition, { caFile: ca.cert })).text, "hi")
      const plaintext = yield* Effect.flip(say(address, packageDefinition))
      assert.strictEqual(plaintext.code, 14)
    }),
  )

  it.live("with a client CA (mTLS), only clients with a certificate that CA signed get in", () =>
    Effect.gen(function* () {
      const certs = makeCertificates()
      const ca = certs.authority("ca")
      const otherCa = certs.authority("other-ca")
      const server = certs.signed("server", ca)
      const client = certs.signed("client", ca)
      const stranger = certs.signed("stranger", otherCa)
      const { server: running, packageDefinition } = yield* startEcho({
        tls: { certFile: server.cert, keyFile: server.key, clientCaFile: ca.cert },
      })
      const address = `127.0.0.1:${running.port}`
      const reply = yield* say(address, packageDefinition, {
        caFile: ca.cert,
        certFile: client.cert,
        keyFile: client.key,
      })
      assert.strictEqual(reply.text, "hi")
      const anonymous = yield* Effect.flip(say(address, packageDefinition, { caFile: ca.cert }))
      assert.strictEqual(anonymous.code, 14)
      const foreign = yield* Effect.flip(
        say(address, packageDefinition, { caFile: ca.cert, certFile: stranger.cert, keyFile: stranger.key }),
      )
      assert.strictEqual(foreign.code, 14)
    }),
  )

  it.live("a certificate renewed in its files is served to new connections without a restart", () =>
    Effect.gen(function* () {
      const certs = makeCertificates()
      const ca = certs.authority("ca")
      const renewedCa = certs.authority("renewed-ca")
      const first = certs.signed("server", ca)
      const renewed = certs.signed("renewed", renewedCa)
      const { server: running, packageDefinition } = yield* startEcho({
        tls: { certFile: first.cert, keyFile: first.key, refreshInterval: "100 millis" },
      })
      const address = `127.0.0.1:${running.port}`
      assert.strictEqual((yield* say(address, packageDefinition, { caFile: ca.cert })).text, "hi")
      copyFileSync(renewed.cert, first.cert)
      copyFileSync(renewed.key, first.key)
      let answered = false
      for (let i = 0; i < 50 && !answered; i++) {
        yield* Effect.sleep("100 millis")
        answered = yield* say(address, packageDefinition, { caFile: renewedCa.cert }).pipe(
          Effect.as(true),
          Effect.orElseSucceed(() => false),
        )
      }
      assert.isTrue(answered)
    }),
  )
})
