import { assert, describe, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Deferred, Effect, Exit, Fiber, Layer, Queue, Scope, Stream } from "effect"
import {
  findService,
  GrpcServer,
  type GrpcServerError,
  GrpcStatus,
  type GrpcStatusError,
  loadProto,
  makeClient,
  type ProtoPackageError,
  serverStream,
  unary,
} from "../src/index.ts"
import {
  echoImplementation,
  echoProtoPath,
  echoService,
  healthProtoPath,
  makeProbe,
  Probe,
  reflectionProtoPath,
  type SayReply,
  type SayRequest,
  startEcho,
} from "./fixtures/echo.ts"

interface HealthCheckResponse {
  readonly status: string
}

const healthOf = (address: string, service: string) =>
  Effect.gen(function* () {
    const client = yield* makeClient({
      address,
      packageDefinition: yield* loadProto(healthProtoPath),
      service: "grpc.health.v1.Health",
    })
    const reply = yield* client.unary<{ service: string }, HealthCheckResponse>(
      "Check",
      { service },
      { deadline: "5 seconds" },
    )
    return reply.status
  }).pipe(Effect.scoped)

interface ReflectionResponse {
  readonly list_services_response?: { readonly service: ReadonlyArray<{ readonly name: string }> }
}

/** Asks grpc.reflection.v1 for the service list over its bidi stream, as grpcurl would. */
const reflectedServices = (address: string) =>
  Effect.gen(function* () {
    const packageDefinition = yield* loadProto(reflectionProtoPath)
    const method = (yield* findService(packageDefinition, "grpc.reflection.v1.ServerReflection")).ServerReflectionInfo!
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => new grpc.Client(address, grpc.credentials.createInsecure())),
      (client) => Effect.sync(() => client.close()),
    )
    return yield* Effect.callback<ReadonlyArray<string>, GrpcStatusError>((resume) => {
      const call = client.makeBidiStreamRequest<object, ReflectionResponse>(
        method.path,
        (value) => method.requestSerialize(value),
        (buffer) => method.responseDeserialize(buffer) as ReflectionResponse,
        new grpc.Metadata(),
        { deadline: new Date(Date.now() + 5_000) },
      )
      call.once("data", (response: ReflectionResponse) => {
        resume(Effect.succeed((response.list_services_response?.service ?? []).map((service) => service.name)))
        call.end()
      })
      call.once("error", (error) => resume(Effect.fail(GrpcStatus.fromServiceError(error))))
      call.write({ list_services: "" })
      return Effect.sync(() => call.cancel())
    })
  }).pipe(Effect.scoped)

const serveEcho = (implementation: Record<string, unknown>) =>
  Effect.gen(function* () {
    const packageDefinition = yield* loadProto(echoProtoPath)
    return yield* GrpcServer.make({
      host: "127.0.0.1",
      port: 0,
      packageDefinition,
      services: [{ name: echoService, implementation: implementation as typeof echoImplementation }],
    }).pipe(Effect.provideService(Probe, yield* makeProbe))
  }).pipe(Effect.scoped, Effect.flip)

describe("GrpcServer", () => {
  it.live("serves grpc.health.v1 with SERVING, and the setter changes it", () =>
    Effect.gen(function* () {
      const { server } = yield* startEcho()
      assert.strictEqual(yield* healthOf(server.address, ""), "SERVING")
      assert.strictEqual(yield* healthOf(server.address, echoService), "SERVING")
      yield* server.setServingStatus(echoService, "NOT_SERVING")
      assert.strictEqual(yield* healthOf(server.address, echoService), "NOT_SERVING")
      yield* server.setServingStatus(echoService, "SERVING")
      assert.strictEqual(yield* healthOf(server.address, echoService), "SERVING")
      const unknown = yield* Effect.flip(healthOf(server.address, "no.such.Service"))
      assert.strictEqual(unknown._tag === "GrpcStatusError" && unknown.code, grpc.status.NOT_FOUND)
    }),
  )

  it.live("tells Watch clients of changes only, not of every repeated status", () =>
    Effect.gen(function* () {
      const { server } = yield* startEcho()
      const client = yield* makeClient({
        address: server.address,
        packageDefinition: yield* loadProto(healthProtoPath),
        service: "grpc.health.v1.Health",
        defaultDeadline: "10 seconds",
      })
      const heard = yield* Queue.unbounded<string>()
      const watching = yield* Effect.forkChild(
        client
          .serverStream<{ service: string }, HealthCheckResponse>("Watch", { service: echoService })
          .pipe(Stream.runForEach((reply) => Queue.offer(heard, reply.status))),
      )
      assert.strictEqual(yield* Queue.take(heard), "SERVING")
      for (let i = 0; i < 3; i++) yield* server.setServingStatus(echoService, "SERVING")
      yield* server.setServingStatus(echoService, "NOT_SERVING")
      assert.strictEqual(yield* Queue.take(heard), "NOT_SERVING")
      yield* Fiber.interrupt(watching)
    }),
  )

  it.live("serves reflection listing the application and health services", () =>
    Effect.gen(function* () {
      const { server } = yield* startEcho()
      const services = yield* reflectedServices(server.address)
      assert.include(services, echoService)
      assert.include(services, "grpc.health.v1.Health")
    }),
  )

  it.live("serves no reflection when it is turned off", () =>
    Effect.gen(function* () {
      const { server } = yield* startEcho({ reflection: false })
      const error = yield* Effect.flip(reflectedServices(server.address))
      assert.strictEqual(error._tag === "GrpcStatusError" && error.code, grpc.status.UNIMPLEMENTED)
    }),
  )

  it.live("binds a random port and exposes it", () =>
    Effect.gen(function* () {
      const { server } = yield* startEcho()
      assert.isAbove(server.port, 0)
      assert.strictEqual(server.address, `127.0.0.1:${server.port}`)
      assert.deepStrictEqual(server.services, [echoService])
    }),
  )

  it.live("builds as a layer whose handlers use services from other layers", () =>
    Effect.gen(function* () {
      const packageDefinition = yield* loadProto(echoProtoPath)
      const serverLayer = GrpcServer.layer({
        host: "127.0.0.1",
        port: 0,
        packageDefinition,
        services: [{ name: echoService, implementation: echoImplementation }],
      }).pipe(Layer.provide(Layer.effect(Probe, makeProbe)))
      const reply = yield* Effect.gen(function* () {
        const server = yield* GrpcServer
        const client = yield* makeClient({ address: server.address, packageDefinition, service: echoService })
        return yield* client.unary<SayRequest, SayReply>("Say", { text: "via layer", mode: "ok" })
      }).pipe(Effect.provide(serverLayer))
      assert.strictEqual(reply.text, "via layer")
      assert.strictEqual(reply.caller, "probe-service")
    }),
  )

  it.live(
    "drains on scope close: NOT_SERVING and new calls refused at once, calls in flight finish, then it stops",
    () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const { server, probe, packageDefinition } = yield* startEcho({ drainTimeout: "20 seconds" }).pipe(
          Scope.provide(scope),
        )
        // The test's own client: the one of startEcho closes with the server's scope.
        const client = yield* makeClient({ address: server.address, packageDefinition, service: echoService })
        const inFlight = yield* Effect.forkChild(
          client.unary<SayRequest, SayReply>("Say", { text: "in flight", mode: "gate" }),
        )
        yield* Deferred.await(probe.started)
        const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
        // the close cannot finish while a call is in flight (the grace period is far away)
        yield* Effect.sleep("200 millis")
        assert.isUndefined(closing.pollUnsafe())
        // while draining, health still answers, and says NOT_SERVING; a new call is refused with a status to retry
        assert.strictEqual(yield* healthOf(server.address, echoService), "NOT_SERVING")
        const refused = yield* Effect.flip(client.unary<SayRequest, SayReply>("Say", { text: "late", mode: "ok" }))
        assert.strictEqual(refused.code, grpc.status.UNAVAILABLE)
        assert.include(refused.message, "shutting down")
        yield* Deferred.succeed(probe.gate, undefined)
        const reply = yield* Fiber.join(inFlight)
        assert.strictEqual(reply.text, "in flight")
        yield* Fiber.join(closing)
        const after = yield* Effect.flip(healthOf(server.address, ""))
        assert.strictEqual(after._tag === "GrpcStatusError" && after.code, grpc.status.UNAVAILABLE)
      }),
  )

  it.live("answers UNAVAILABLE to calls still running after the drain time, and interrupts their handlers", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const { server, probe, packageDefinition } = yield* startEcho({ drainTimeout: "100 millis" }).pipe(
        Scope.provide(scope),
      )
      const client = yield* makeClient({ address: server.address, packageDefinition, service: echoService })
      const stuck = yield* Effect.forkChild(client.unary<SayRequest, SayReply>("Say", { text: "x", mode: "hang" }))
      yield* Deferred.await(probe.started)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(
        yield* Deferred.await(probe.interrupted).pipe(Effect.timeout("5 seconds")),
        "/fixture.v1.Echo/Say",
      )
      const error = yield* Effect.flip(Fiber.join(stuck))
      assert.strictEqual(error.code, grpc.status.UNAVAILABLE)
      assert.include(error.message, "did not finish within its drain time")
    }),
  )

  it.live("refuses implementations that do not match the service definition", () =>
    Effect.gen(function* () {
      const missing = yield* serveEcho({ Say: echoImplementation.Say })
      assert.match(missing.message, /Count has no handler/)
      const wrongKind = yield* serveEcho({ Say: echoImplementation.Say, Count: unary(() => Effect.succeed({})) })
      assert.match(wrongKind.message, /Count needs a ServerStream handler/)
      const extra = yield* serveEcho({ ...echoImplementation, Shout: serverStream(() => Effect.never as never) })
      assert.match(extra.message, /has no method Shout/)
      const failures: ReadonlyArray<GrpcServerError | ProtoPackageError> = [missing, wrongKind, extra]
      assert.deepStrictEqual(
        failures.map((failure) => failure._tag),
        ["GrpcServerError", "GrpcServerError", "GrpcServerError"],
      )
    }),
  )

  it.live("fails with GrpcServerError when the address cannot be bound", () =>
    Effect.gen(function* () {
      const packageDefinition = yield* loadProto(echoProtoPath)
      // 192.0.2.0/24 is reserved for documentation: no local interface carries it, so binding fails without traffic
      const error = yield* GrpcServer.make({
        host: "192.0.2.1",
        port: 0,
        packageDefinition,
        services: [{ name: echoService, implementation: echoImplementation }],
      }).pipe(Effect.provideService(Probe, yield* makeProbe), Effect.scoped, Effect.flip)
      assert.strictEqual(error._tag, "GrpcServerError")
      assert.match(error.message, /cannot bind 192\.0\.2\.1:0/)
    }),
  )

  it.live("fails with ProtoPackageError for a service missing from the package definition", () =>
    Effect.gen(function* () {
      const packageDefinition = yield* loadProto(echoProtoPath)
      const error = yield* GrpcServer.make({
        host: "127.0.0.1",
        port: 0,
        packageDefinition,
        services: [{ name: "fixture.v1.Missing", implementation: {} }],
      }).pipe(Effect.scoped, Effect.flip)
      assert.strictEqual(error._tag, "ProtoPackageError")
    }),
  )
})
