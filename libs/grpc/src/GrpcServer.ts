import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import { ReflectionService } from "@grpc/reflection"
import { Context, Duration, Effect, FiberSet, Layer, Option, Schema, type Scope, Stream } from "effect"
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from "grpc-health-check"
import { bindServerStream, bindUnary, type RunFork } from "./CallBridge.ts"
import { type BoundFields, type FieldBounds, oversizedField, resolveFieldBounds } from "./FieldBounds.ts"
import { type GrpcStatusError, invalidArgument, unavailable } from "./GrpcStatusError.ts"
import { type MethodHandler, type ServiceImplementation, serverStream, unary } from "./Handlers.ts"
import { installIncrementalReceive } from "./IncrementalReceive.ts"
import { findService, ProtoPackageError } from "./ProtoPackage.ts"
import { type ServerTls, serverCredentials } from "./Tls.ts"
import { wireProblem } from "./WireFormat.ts"

export type { ServingStatus }

/** Binding the port or registering a service failed. */
export class GrpcServerError extends Schema.TaggedError<GrpcServerError>()("GrpcServerError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}

/** A service to serve: its full proto name and one handler per method. */
export interface ServiceRegistration<R = never> {
  readonly name: string
  readonly implementation: ServiceImplementation<R>
  /**
   * Bounds on request fields by method name, checked on the wire before the request is decoded: a field over its
   * bound is answered INVALID_ARGUMENT naming it, and never becomes a JavaScript string.
   */
  readonly requestBounds?: Readonly<Record<string, FieldBounds>>
}

export interface KeepaliveOptions {
  /** Ping an idle connection after this long (grpc.keepalive_time_ms). */
  readonly time?: Duration.Input
  /** Drop the connection when a ping is not answered within this (grpc.keepalive_timeout_ms). */
  readonly timeout?: Duration.Input
  /** Let clients ping without active calls (grpc.keepalive_permit_without_calls). */
  readonly permitWithoutCalls?: boolean
}

export interface GrpcServerOptions<R = never> {
  /** Interface to bind, e.g. "127.0.0.1" or "0.0.0.0". */
  readonly host: string
  /** 0 picks a free port; the bound one is in RunningGrpcServer.port. */
  readonly port: number
  /** All services to serve come from this package definition; reflection describes it too. */
  readonly packageDefinition: protoLoader.PackageDefinition
  readonly services: ReadonlyArray<ServiceRegistration<R>>
  /** Largest request accepted (default 32 MiB: requests may carry images). */
  readonly maxReceiveMessageBytes?: number
  /** Largest response sent (default 32 MiB). */
  readonly maxSendMessageBytes?: number
  readonly keepalive?: KeepaliveOptions
  /**
   * When the scope closes, how long calls in flight may take to finish (default 5 s). Meanwhile health says
   * NOT_SERVING and new calls are refused with UNAVAILABLE; calls still running after it answer UNAVAILABLE.
   */
  readonly drainTimeout?: Duration.Input
  /** Serve grpc.reflection.v1 / v1alpha describing the package definition and the health service (default true). */
  readonly reflection?: boolean
  /** TLS (and mTLS with a client CA); plaintext without. */
  readonly tls?: ServerTls | undefined
  /** Extra grpc-js server options, applied last. */
  readonly grpcOptions?: grpc.ServerOptions
}

/** A bound, serving gRPC server. */
export interface RunningGrpcServer {
  readonly host: string
  readonly port: number
  /** "host:port" for clients. */
  readonly address: string
  /** Full names of the served application services. */
  readonly services: ReadonlyArray<string>
  /** Sets the health status of a service ("" is the whole server) for grpc.health.v1.Health Check and Watch. */
  readonly setServingStatus: (service: string, status: ServingStatus) => Effect.Effect<void>
  /**
   * Starts the drain now rather than when the scope closes (an application with several doors drains them all at
   * once); it runs once, and closing the scope afterwards only waits for it.
   */
  readonly drain: Effect.Effect<void>
  /** The underlying grpc-js server, for what this adapter does not cover. */
  readonly server: grpc.Server
}

export const mebibytes = (n: number): number => n * 1024 * 1024

const serverOptions = (options: GrpcServerOptions<unknown>): grpc.ServerOptions => {
  const keepalive = options.keepalive
  return {
    // No channelz service is served: its per-call and per-session tracking (counters, timestamps) was work for nobody.
    "grpc.enable_channelz": 0,
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? mebibytes(32),
    "grpc.max_send_message_length": options.maxSendMessageBytes ?? mebibytes(32),
    ...(keepalive?.time === undefined ? {} : { "grpc.keepalive_time_ms": Duration.toMillis(keepalive.time) }),
    ...(keepalive?.timeout === undefined ? {} : { "grpc.keepalive_timeout_ms": Duration.toMillis(keepalive.timeout) }),
    ...(keepalive?.permitWithoutCalls === undefined
      ? {}
      : { "grpc.keepalive_permit_without_calls": keepalive.permitWithoutCalls ? 1 : 0 }),
    ...options.grpcOptions,
  }
}

/** A request refused before any handler saw it (bytes that are no message, a field over its bound). */
class RefusedRequest {
  readonly error: GrpcStatusError
  constructor(error: GrpcStatusError) {
    this.error = error
  }
}

const undecodable = (reason: string) =>
  new RefusedRequest(invalidArgument("request", `the message cannot be decoded (${reason})`))

/**
 * The service definition with forgiving, bounded request decoders. grpc-js answers a decoder that throws with
 * INTERNAL ("Error deserializing request", server-interceptors.ts), but bytes that are not the message, or a field
 * past its bound, are the client's mistake: the decoder hands over a RefusedRequest, which the handler wrapper
 * answers INVALID_ARGUMENT. The bounds are checked first, on the wire: what is refused by length is never decoded.
 */
const forgivingDefinition = (
  definition: protoLoader.ServiceDefinition,
  boundsOf: (method: string) => BoundFields | undefined,
): protoLoader.ServiceDefinition =>
  Object.fromEntries(
    Object.entries(definition).map(([name, method]) => {
      const bounds = boundsOf(name)
      return [
        name,
        {
          ...method,
          requestDeserialize: (bytes: Buffer) => {
            const problem = wireProblem(bytes)
            if (problem !== undefined) return undecodable(problem)
            const oversized = bounds === undefined ? undefined : oversizedField(bytes, bounds)
            if (oversized !== undefined) return new RefusedRequest(invalidArgument(oversized.field, oversized.message))
            try {
              return method.requestDeserialize(bytes)
            } catch (error) {
              return undecodable(error instanceof Error ? error.message : String(error))
            }
          },
        },
      ]
    }),
  )

const DRAIN_POLL = Duration.millis(20)

const draining = unavailable("the server is shutting down; retry the call (another replica will take it)")

/** A refused request is logged: no handler saw it, so no handler's log line or metric tells of it. */
const refused = (request: RefusedRequest, path: string) =>
  Effect.andThen(
    Effect.logWarning("request refused before decoding").pipe(
      Effect.annotateLogs({ method: path, error: request.error.message }),
    ),
    Effect.fail(request.error),
  )

/** The handler, answering a refused request with its error, and UNAVAILABLE while draining. */
const guarded = <R>(handler: MethodHandler<R>, isDraining: () => boolean): MethodHandler<R> =>
  handler._tag === "Unary"
    ? unary((request: unknown, ctx) =>
        isDraining()
          ? Effect.fail(draining)
          : request instanceof RefusedRequest
            ? refused(request, ctx.path)
            : handler.handle(request as never, ctx),
      )
    : serverStream((request: unknown, ctx) =>
        isDraining()
          ? Stream.fail(draining)
          : request instanceof RefusedRequest
            ? Stream.fromEffect(refused(request, ctx.path))
            : handler.handle(request as never, ctx),
      )

/** grpc-js handlers for one service, checking that the implementation matches the definition method by method. */
const bindService = <R>(
  name: string,
  definition: protoLoader.ServiceDefinition,
  implementation: ServiceImplementation<R>,
  runFork: RunFork<R>,
  isDraining: () => boolean,
): Effect.Effect<grpc.UntypedServiceImplementation, GrpcServerError> =>
  Effect.gen(function* () {
    const bound: grpc.UntypedServiceImplementation = {}
    const known = new Set<string>()
    for (const [methodName, method] of Object.entries(definition)) {
      known.add(methodName)
      if (method.originalName !== undefined) known.add(method.originalName)
      const handler = implementation[methodName] ?? (method.originalName && implementation[method.originalName])
      if (!handler) return yield* new GrpcServerError({ message: `${name}.${methodName} has no handler` })
      if (method.requestStream) {
        return yield* new GrpcServerError({ message: `${name}.${methodName}: client streaming is not supported` })
      }
      const wanted = method.responseStream ? "ServerStream" : "Unary"
      if (handler._tag !== wanted) {
        return yield* new GrpcServerError({
          message: `${name}.${methodName} needs a ${wanted} handler, got ${handler._tag}`,
        })
      }
      const safe = guarded(handler, isDraining)
      bound[methodName] = safe._tag === "Unary" ? bindUnary(safe, runFork) : bindServerStream(safe, runFork)
    }
    for (const key of Object.keys(implementation)) {
      if (!known.has(key)) return yield* new GrpcServerError({ message: `${name} has no method ${key}` })
    }
    return bound
  })

const bindPort = (server: grpc.Server, host: string, port: number, tls: ServerTls | undefined) =>
  Effect.gen(function* () {
    const { credentials, loaded } = serverCredentials(tls)
    if (!(yield* Effect.promise(() => loaded))) {
      return yield* new GrpcServerError({
        message: `cannot read the TLS files (${[tls?.certFile, tls?.keyFile, tls?.clientCaFile].filter(Boolean).join(", ")})`,
      })
    }
    const target = host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`
    return yield* Effect.callback<number, GrpcServerError>((resume) => {
      server.bindAsync(target, credentials, (error, boundPort) =>
        resume(
          error === null
            ? Effect.succeed(boundPort)
            : Effect.fail(new GrpcServerError({ message: `cannot bind ${target}: ${error.message}`, cause: error })),
        ),
      )
    })
  })

/** Stops accepting calls, lets in-flight ones finish within the grace period, then cancels the rest. */
const shutdown = (server: grpc.Server, gracePeriod: Duration.Input) =>
  Effect.callback<void>((resume) => {
    server.tryShutdown(() => resume(Effect.void))
  }).pipe(Effect.timeoutOption(gracePeriod), Effect.ensuring(Effect.sync(() => server.forceShutdown())))

const make = Effect.fnUntraced(function* <R = never>(
  options: GrpcServerOptions<R>,
): Effect.fn.Return<RunningGrpcServer, GrpcServerError | ProtoPackageError, R | Scope.Scope> {
  // Handler fibers live in a FiberSet of this scope, which interrupts stragglers. The drain counts calls itself:
  // a fiber starts running before FiberSet.runtime adds it, so the set alone could miss a call that just began.
  const handlers = yield* FiberSet.make()
  const forkInto = yield* FiberSet.runtime(handlers)<R>()
  let inFlight = 0
  const runFork: RunFork<R> = (effect) => {
    inFlight++
    const fiber = forkInto(effect)
    fiber.addObserver(() => {
      inFlight--
    })
    return fiber
  }
  let isDraining = false
  // A large request is copied as its chunks arrive, not joined in one turn of the event loop.
  if (!installIncrementalReceive())
    yield* Effect.logWarning(
      "grpc-js's message decoder is not the one expected: large requests are joined in one event-loop turn",
    )
  const server = new grpc.Server(serverOptions(options))
  const names = options.services.map((service) => service.name)
  const health = new HealthImplementation(Object.fromEntries(["", ...names].map((name) => [name, "SERVING"])))

  for (const service of options.services) {
    const found = yield* findService(options.packageDefinition, service.name)
    const bounds = new Map<string, BoundFields>()
    for (const [method, fieldBounds] of Object.entries(service.requestBounds ?? {})) {
      const definition = found[method]
      const resolved =
        definition === undefined
          ? `${service.name} has no method ${method}`
          : resolveFieldBounds(options.packageDefinition, service.name, definition, fieldBounds)
      if (typeof resolved === "string") {
        return yield* new GrpcServerError({ message: `request bounds of ${service.name}.${method}: ${resolved}` })
      }
      bounds.set(method, resolved)
    }
    const definition = forgivingDefinition(found, (method) => bounds.get(method))
    const implementation = yield* bindService(
      service.name,
      definition,
      service.implementation,
      runFork,
      () => isDraining,
    )
    server.addService(definition, implementation)
  }
  health.addToServer(server)
  if (options.reflection ?? true) {
    // describe grpc.health.v1 too, so tools such as grpcurl can call it without a local .proto
    const healthPackage = yield* Effect.try({
      try: () => protoLoader.loadSync(healthProtoPath),
      catch: (cause) => new ProtoPackageError({ message: "cannot load the health service proto", cause }),
    })
    new ReflectionService({ ...healthPackage, ...options.packageDefinition }).addToServer(server)
  }

  // Watchers hear of a change only: grpc-health-check notifies them on every set, even of the same status.
  const statuses = new Map<string, ServingStatus>(["", ...names].map((name) => [name, "SERVING"]))
  const setStatus = (service: string, status: ServingStatus) => {
    // Once draining, health stays NOT_SERVING: an application's readiness loop must not route new calls back here.
    if (isDraining && status === "SERVING") return
    if (statuses.get(service) === status) return
    statuses.set(service, status)
    health.setStatus(service, status)
  }
  const drainTimeout = options.drainTimeout ?? Duration.seconds(5)
  /**
   * The drain: health NOT_SERVING and new calls refused at once (health and reflection still answer, so load
   * balancers see why); calls in flight get `drainTimeout` to finish; the rest are interrupted and answer
   * UNAVAILABLE; then the server stops.
   */
  const drain = Effect.gen(function* () {
    isDraining = true
    for (const name of ["", ...names]) setStatus(name, "NOT_SERVING")
    yield* Effect.logInfo("gRPC server draining").pipe(
      Effect.annotateLogs({ inFlight, drainTimeout: Duration.format(Duration.fromInputUnsafe(drainTimeout)) }),
    )
    const idle = Effect.sleep(DRAIN_POLL).pipe(Effect.repeat({ until: () => inFlight === 0 }))
    const finished = inFlight === 0 ? Option.some(undefined) : yield* idle.pipe(Effect.timeoutOption(drainTimeout))
    if (Option.isNone(finished)) {
      yield* Effect.logWarning("gRPC server drain time over: calls still running answer UNAVAILABLE").pipe(
        Effect.annotateLogs({ cut: inFlight }),
      )
      yield* FiberSet.clear(handlers)
    }
    yield* shutdown(server, Duration.seconds(1))
    yield* Effect.logInfo("gRPC server stopped")
  })
  const drainOnce = yield* Effect.cached(drain)
  const port = yield* Effect.acquireRelease(bindPort(server, options.host, options.port, options.tls), () => drainOnce)
  return {
    host: options.host,
    port,
    address: options.host.includes(":") ? `[${options.host}]:${port}` : `${options.host}:${port}`,
    services: names,
    setServingStatus: (service, status) => Effect.sync(() => setStatus(service, status)),
    drain: drainOnce,
    server,
  }
})

/** The running gRPC server of this application. */
export class GrpcServer extends Context.Service<GrpcServer, RunningGrpcServer>()("@stagebeam/grpc/GrpcServer") {
  /** Binds and serves until the scope closes, then shuts down gracefully. Handlers run with the caller's services. */
  static readonly make: <R = never>(
    options: GrpcServerOptions<R>,
  ) => Effect.Effect<RunningGrpcServer, GrpcServerError | ProtoPackageError, R | Scope.Scope> = make

  static readonly layer = <R = never>(
    options: GrpcServerOptions<R>,
  ): Layer.Layer<GrpcServer, GrpcServerError | ProtoPackageError, R> => Layer.effect(GrpcServer, make(options))
}
