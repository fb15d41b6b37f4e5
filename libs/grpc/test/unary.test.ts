import { connect } from "node:http2"
import { assert, describe, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Deferred, Effect, Fiber } from "effect"
import { findService, GrpcStatus } from "../src/index.ts"
import { echoService, type SayReply, type SayRequest, startEcho } from "./fixtures/echo.ts"

/**
 * One gRPC call over bare HTTP/2 carrying only a grpc-timeout header: unlike grpc-js clients it never gives up on
 * its own, so whatever status arrives was written by the server. Returns every grpc-status the server sent.
 */
const rawCallWithTimeoutHeader = (address: string, path: string, message: Buffer, timeout: string) =>
  Effect.callback<ReadonlyArray<string>, Error>((resume) => {
    const session = connect(`http://${address}`)
    const statuses: Array<string> = []
    const record = (headers: Record<string, unknown>) => {
      if (headers["grpc-status"] !== undefined) statuses.push(String(headers["grpc-status"]))
    }
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": timeout,
    })
    stream.on("response", record)
    stream.on("trailers", record)
    stream.on("data", () => {})
    stream.on("close", () => {
      session.close()
      resume(Effect.succeed(statuses))
    })
    stream.on("error", (error) => resume(Effect.fail(error)))
    const frame = Buffer.alloc(5 + message.length)
    frame.writeUInt32BE(message.length, 1)
    message.copy(frame, 5)
    stream.end(frame)
    return Effect.sync(() => session.destroy())
  })

describe("unary handlers", () => {
  it.live("answers INVALID_ARGUMENT, not INTERNAL, to bytes that are not the request message", () =>
    Effect.gen(function* () {
      const { server, client } = yield* startEcho()
      const garbage = Buffer.from([0x10, 0x99]) // a varint cut short
      const statuses = yield* rawCallWithTimeoutHeader(server.address, `/${echoService}/Say`, garbage, "10S")
      assert.deepStrictEqual(statuses, [String(grpc.status.INVALID_ARGUMENT)])
      // and it keeps serving
      const reply = yield* client.unary<SayRequest, SayReply>("Say", { text: "still here", mode: "ok" })
      assert.isDefined(reply)
    }),
  )

  it.live("answers INVALID_ARGUMENT to a message cut inside a field, which protobufjs alone would accept", () =>
    Effect.gen(function* () {
      const { server, client, packageDefinition } = yield* startEcho()
      const say = (yield* findService(packageDefinition, echoService)).Say!
      const whole = say.requestSerialize({ text: "a sentence long enough to cut", mode: "ok" })
      const cut = whole.subarray(0, 10) // inside the text field
      const statuses = yield* rawCallWithTimeoutHeader(server.address, `/${echoService}/Say`, cut, "10S")
      assert.deepStrictEqual(statuses, [String(grpc.status.INVALID_ARGUMENT)])
      const reply = yield* client.unary<SayRequest, SayReply>("Say", { text: "still here", mode: "ok" })
      assert.strictEqual(reply.text, "still here")
    }),
  )

  it.live("answers with the handler's value, run on the server's services", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      const reply = yield* client.unary<SayRequest, SayReply>(
        "Say",
        { text: "hello", mode: "ok" },
        { metadata: { "x-request-id": "req-42" } },
      )
      assert.strictEqual(reply.text, "hello")
      assert.strictEqual(reply.request_id, "req-42")
      assert.strictEqual(reply.caller, "probe-service")
      assert.isTrue(reply.peer.includes("127.0.0.1"))
      assert.isTrue(reply.has_deadline)
    }),
  )

  it.live("maps a typed failure to its status code, message and trailers", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      const error = yield* Effect.flip(client.unary<SayRequest, SayReply>("Say", { text: "", mode: "fail" }))
      assert.strictEqual(error.code, grpc.status.INVALID_ARGUMENT)
      assert.strictEqual(error.statusName, "INVALID_ARGUMENT")
      assert.strictEqual(error.message, "invalid text: must not be empty")
      assert.strictEqual(error.metadata?.[GrpcStatus.invalidFieldKey], "text")
    }),
  )

  it.live("answers INTERNAL for defects and thrown exceptions, and keeps serving", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      for (const mode of ["defect", "throw"] as const) {
        const error = yield* Effect.flip(client.unary<SayRequest, SayReply>("Say", { text: "x", mode }))
        assert.strictEqual(error.code, grpc.status.INTERNAL)
        assert.strictEqual(error.message, "internal error")
      }
      const reply = yield* client.unary<SayRequest, SayReply>("Say", { text: "still here", mode: "ok" })
      assert.strictEqual(reply.text, "still here")
    }),
  )

  it.live("interrupts the handler fiber when the client cancels", () =>
    Effect.gen(function* () {
      const { client, probe } = yield* startEcho()
      const call = yield* Effect.forkChild(client.unary<SayRequest, SayReply>("Say", { text: "x", mode: "hang" }))
      assert.strictEqual(yield* Deferred.await(probe.started), "/fixture.v1.Echo/Say")
      yield* Fiber.interrupt(call)
      const interruptedPath = yield* Deferred.await(probe.interrupted).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(interruptedPath, "/fixture.v1.Echo/Say")
    }),
  )

  it.live("answers DEADLINE_EXCEEDED and interrupts the handler when the deadline passes", () =>
    Effect.gen(function* () {
      const { client, probe } = yield* startEcho()
      const error = yield* Effect.flip(
        client.unary<SayRequest, SayReply>("Say", { text: "x", mode: "hang" }, { deadline: "1 second" }),
      )
      assert.strictEqual(error.code, grpc.status.DEADLINE_EXCEEDED)
      const interruptedPath = yield* Deferred.await(probe.interrupted).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(interruptedPath, "/fixture.v1.Echo/Say")
      // the server still answers later calls on the same connection
      const reply = yield* client.unary<SayRequest, SayReply>("Say", { text: "after", mode: "ok" })
      assert.strictEqual(reply.text, "after")
    }),
  )

  it.live("accepts and returns messages of several MiB (default limit 32 MiB)", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      const text = "x".repeat(6 * 1024 * 1024)
      const reply = yield* client.unary<SayRequest, SayReply>("Say", { text, mode: "ok" })
      assert.strictEqual(reply.text.length, text.length)
    }),
  )

  it.live("rejects requests above the configured receive limit with RESOURCE_EXHAUSTED", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho({ maxReceiveMessageBytes: 1024 })
      const error = yield* Effect.flip(
        client.unary<SayRequest, SayReply>("Say", { text: "y".repeat(4096), mode: "ok" }),
      )
      assert.strictEqual(error.code, grpc.status.RESOURCE_EXHAUSTED)
    }),
  )

  it.live("refuses responses above the configured send limit with RESOURCE_EXHAUSTED", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho({ maxSendMessageBytes: 1024 })
      const error = yield* Effect.flip(
        client.unary<SayRequest, SayReply>("Say", { text: "z".repeat(4096), mode: "ok" }),
      )
      assert.strictEqual(error.code, grpc.status.RESOURCE_EXHAUSTED)
    }),
  )

  it.live("the server itself answers DEADLINE_EXCEEDED, once, to a client that does not enforce deadlines", () =>
    Effect.gen(function* () {
      const { server, probe, packageDefinition } = yield* startEcho()
      const say = (yield* findService(packageDefinition, echoService)).Say!
      const trailers = yield* rawCallWithTimeoutHeader(
        server.address,
        say.path,
        say.requestSerialize({ text: "x", mode: "hang" }),
        "1S",
      )
      assert.deepStrictEqual(trailers, [String(grpc.status.DEADLINE_EXCEEDED)])
      assert.strictEqual(
        yield* Deferred.await(probe.interrupted).pipe(Effect.timeout("5 seconds")),
        "/fixture.v1.Echo/Say",
      )
    }),
  )

  it.live("fails with UNIMPLEMENTED for a method the client does not know", () =>
    Effect.gen(function* () {
      const { client } = yield* startEcho()
      const error = yield* Effect.flip(client.unary("Nope", {}))
      assert.strictEqual(error.code, grpc.status.UNIMPLEMENTED)
    }),
  )
})
