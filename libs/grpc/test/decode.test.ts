import { assert, describe, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Effect, Schema, Stream } from "effect"
import { decodeRequest, GrpcServer, GrpcStatus, loadProto, makeClient, serverStream, unary } from "../src/index.ts"
import { echoProtoPath, echoService, type SayReply } from "./fixtures/echo.ts"

const SayRequest = Schema.Struct({
  text: Schema.NonEmptyString,
  mode: Schema.Literals(["ok", "loud"]),
})

const decodeSay = decodeRequest(SayRequest)

/** An echo server whose Say handler only sees requests that passed the schema. */
const startValidatingEcho = Effect.gen(function* () {
  const packageDefinition = yield* loadProto(echoProtoPath)
  const server = yield* GrpcServer.make({
    host: "127.0.0.1",
    port: 0,
    packageDefinition,
    services: [
      {
        name: echoService,
        implementation: {
          Say: unary((raw: unknown, ctx) =>
            Effect.map(
              decodeSay(raw),
              (request): SayReply => ({
                text: request.mode === "loud" ? request.text.toUpperCase() : request.text,
                peer: ctx.peer,
                has_deadline: ctx.deadline !== undefined,
                caller: "validated",
                request_id: "",
              }),
            ),
          ),
          Count: serverStream(() => Stream.empty),
        },
      },
    ],
  })
  return yield* makeClient({ address: server.address, packageDefinition, service: echoService })
}).pipe(Effect.orDie)

describe("decodeRequest", () => {
  it.live("hands the handler a decoded request", () =>
    Effect.gen(function* () {
      const client = yield* startValidatingEcho
      const reply = yield* client.unary<object, SayReply>("Say", { text: "hi", mode: "loud" })
      assert.strictEqual(reply.text, "HI")
    }),
  )

  it.live("answers INVALID_ARGUMENT naming the offending field", () =>
    Effect.gen(function* () {
      const client = yield* startValidatingEcho
      const empty = yield* Effect.flip(client.unary<object, SayReply>("Say", { text: "", mode: "ok" }))
      assert.strictEqual(empty.code, grpc.status.INVALID_ARGUMENT)
      assert.strictEqual(empty.metadata?.[GrpcStatus.invalidFieldKey], "text")
      assert.match(empty.message, /^invalid text: /)
      const badMode = yield* Effect.flip(client.unary<object, SayReply>("Say", { text: "x", mode: "whisper" }))
      assert.strictEqual(badMode.metadata?.[GrpcStatus.invalidFieldKey], "mode")
    }),
  )
})
