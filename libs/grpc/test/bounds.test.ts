import { assert, describe, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import type * as protoLoader from "@grpc/proto-loader"
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { type BoundFields, oversizedField, resolveFieldBounds } from "../src/FieldBounds.ts"
import { type FieldBounds, findService, GrpcServer, GrpcStatus, loadProto } from "../src/index.ts"
import {
  type CountEvent,
  type CountRequest,
  echoImplementation,
  echoProtoPath,
  echoService,
  makeProbe,
  Probe,
  type SayReply,
  type SayRequest,
  startEcho,
} from "./fixtures/echo.ts"

const BOUNDS: FieldBounds = {
  text: { maxBytes: 1024, expected: "a text of at most 1024 bytes" },
  "tag.tag_name": { maxBytes: 16 },
  "tag.blob": { maxBytes: 64 },
}

/** The echo package with Say's decoder counting the requests that reach it. */
const countingPackage = Effect.gen(function* () {
  const packageDefinition = yield* loadProto(echoProtoPath)
  const service = packageDefinition[echoService] as protoLoader.ServiceDefinition
  const say = service.Say!
  const decoded = { count: 0 }
  const counted: protoLoader.PackageDefinition = {
    ...packageDefinition,
    [echoService]: {
      ...service,
      Say: {
        ...say,
        requestDeserialize: (bytes: Buffer) => {
          decoded.count++
          return say.requestDeserialize(bytes)
        },
      },
    },
  }
  return { counted, decoded }
}).pipe(Effect.orDie)

const resolved = (bounds: FieldBounds) =>
  Effect.gen(function* () {
    const packageDefinition = yield* loadProto(echoProtoPath)
    const say = (yield* findService(packageDefinition, echoService)).Say!
    const fields = resolveFieldBounds(packageDefinition, echoService, say, bounds)
    return { say, fields }
  }).pipe(Effect.orDie)

describe("request field bounds", () => {
  it.effect("a field is refused exactly when its UTF-8 is longer than its bound, at any depth", () =>
    Effect.gen(function* () {
      const { say, fields } = yield* resolved(BOUNDS)
      assert.notStrictEqual(typeof fields, "string")
      const bounds = fields as BoundFields
      fc.assert(
        fc.property(
          fc.string({ unit: "grapheme", maxLength: 400 }),
          fc.string({ unit: "grapheme", maxLength: 12 }),
          fc.uint8Array({ maxLength: 100 }),
          (text, tagName, blob) => {
            const bytes = say.requestSerialize({ text, mode: "ok", tag: { tag_name: tagName, blob } }) as Buffer
            const found = oversizedField(bytes, bounds)
            const expected =
              Buffer.byteLength(text) > 1024
                ? "text"
                : Buffer.byteLength(tagName) > 16
                  ? "tag.tag_name"
                  : blob.length > 64
                    ? "tag.blob"
                    : undefined
            return found?.field === expected
          },
        ),
      )
    }),
  )

  it.live("over the wire: INVALID_ARGUMENT naming the field, and the request is never decoded", () =>
    Effect.gen(function* () {
      const { counted, decoded } = yield* countingPackage
      const { client } = yield* startEcho({
        packageDefinition: counted,
        services: [{ name: echoService, implementation: echoImplementation, requestBounds: { Say: BOUNDS } }],
      })
      const say = (request: SayRequest) => client.unary<SayRequest, SayReply>("Say", request)

      const long = yield* Effect.flip(say({ text: "x".repeat(8 * 1024 * 1024), mode: "ok" }))
      assert.strictEqual(long.code, grpc.status.INVALID_ARGUMENT)
      assert.strictEqual(long.metadata?.[GrpcStatus.invalidFieldKey], "text")
      assert.strictEqual(long.message, "invalid text: Expected a text of at most 1024 bytes, got 8388608 bytes")
      const nested = yield* Effect.flip(say({ text: "hi", mode: "ok", tag: { tag_name: "n".repeat(17) } }))
      assert.strictEqual(nested.code, grpc.status.INVALID_ARGUMENT)
      assert.strictEqual(nested.metadata?.[GrpcStatus.invalidFieldKey], "tag.tag_name")
      assert.include(nested.message, "Expected at most 16 bytes, got 17 bytes")
      const blob = yield* Effect.flip(say({ text: "hi", mode: "ok", tag: { blob: new Uint8Array(65) } }))
      assert.strictEqual(blob.metadata?.[GrpcStatus.invalidFieldKey], "tag.blob")
      assert.strictEqual(decoded.count, 0)

      // At the bound (1024 bytes of UTF-8, 512 characters): decoded and answered.
      const atBound = yield* say({ text: "é".repeat(512), mode: "ok", tag: { tag_name: "n".repeat(16) } })
      assert.strictEqual(atBound.text, "é".repeat(512))
      assert.strictEqual(decoded.count, 1)
      // A method without bounds is untouched.
      const events = yield* Stream.runCollect(
        client.serverStream<CountRequest, CountEvent>("Count", { n: 2, payload_bytes: 4096, mode: "ok" }),
      )
      assert.strictEqual(events.length, 2)
    }),
  )

  it.live("bounds that name no string, bytes or message field stop the server at start, saying which", () =>
    Effect.gen(function* () {
      const packageDefinition = yield* loadProto(echoProtoPath)
      const probe = yield* makeProbe
      const start = (requestBounds: Readonly<Record<string, FieldBounds>>) =>
        GrpcServer.make({
          host: "127.0.0.1",
          port: 0,
          packageDefinition,
          services: [{ name: echoService, implementation: echoImplementation, requestBounds }],
        }).pipe(Effect.provideService(Probe, probe), Effect.scoped, Effect.flip)
      const missing = yield* start({ Say: { txt: { maxBytes: 1 } } })
      assert.include(missing.message, "request bounds of fixture.v1.Echo.Say: txt: txt is no string")
      const notMessage = yield* start({ Say: { "mode.x": { maxBytes: 1 } } })
      assert.include(notMessage.message, "mode is not a message")
      const notDelimited = yield* start({ Count: { n: { maxBytes: 1 } } })
      assert.include(notDelimited.message, "n is no string, bytes or message field")
      const noMethod = yield* start({ Shout: { text: { maxBytes: 1 } } })
      assert.include(noMethod.message, "has no method Shout")
    }),
  )
})
