import * as grpc from "@grpc/grpc-js"
import type * as protoLoader from "@grpc/proto-loader"
import { Duration, Effect, type Scope, Stream } from "effect"
import {
  fromServiceError,
  type GrpcStatusError,
  metadataToRecord,
  toMetadata,
  unimplemented,
} from "./GrpcStatusError.ts"
import { findService, type ProtoPackageError } from "./ProtoPackage.ts"
import { type ClientTls, channelCredentials } from "./Tls.ts"

export interface GrpcClientOptions {
  /** "host:port" of the server. */
  readonly address: string
  readonly packageDefinition: protoLoader.PackageDefinition
  /** Full service name, e.g. "stagebeam.v1.Reasoner". */
  readonly service: string
  /** Deadline of calls that set none (default 30 s): every call has one. */
  readonly defaultDeadline?: Duration.Input
  /** Largest response accepted (default 32 MiB). */
  readonly maxReceiveMessageBytes?: number
  readonly grpcOptions?: grpc.ChannelOptions
  /** TLS to the server (and a client certificate for mTLS); plaintext without. */
  readonly tls?: ClientTls | undefined
}

export interface ClientCallOptions {
  readonly deadline?: Duration.Input
  readonly metadata?: Readonly<Record<string, string>>
  /** Called with the server's response headers (initial metadata) when they arrive. */
  readonly onHeaders?: (headers: Readonly<Record<string, string>>) => void
}

/** A small client for tests and the CLI (plaintext or TLS): calls become Effects/Streams; interruption cancels the call. */
export interface GrpcClient {
  readonly unary: <Req, Res>(
    method: string,
    request: Req,
    options?: ClientCallOptions,
  ) => Effect.Effect<Res, GrpcStatusError>
  readonly serverStream: <Req, Ev>(
    method: string,
    request: Req,
    options?: ClientCallOptions,
  ) => Stream.Stream<Ev, GrpcStatusError>
  readonly client: grpc.Client
  /** The service's full name and its method definitions, as the package definition gives them. */
  readonly service: string
  readonly definition: protoLoader.ServiceDefinition
}

/** Connects lazily (as grpc-js does) and closes the channel when the scope closes. */
export const makeClient = Effect.fnUntraced(function* (
  options: GrpcClientOptions,
): Effect.fn.Return<GrpcClient, ProtoPackageError, Scope.Scope> {
  const definition = yield* findService(options.packageDefinition, options.service)
  const client = yield* Effect.acquireRelease(
    Effect.sync(
      () =>
        new grpc.Client(options.address, channelCredentials(options.tls), {
          "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? 32 * 1024 * 1024,
          ...options.grpcOptions,
        }),
    ),
    (client) => Effect.sync(() => client.close()),
  )
  const defaultDeadline = options.defaultDeadline ?? Duration.seconds(30)
  // gRPC deadlines are wall-clock instants shared with the server, so they come from Date, not the Effect Clock
  const deadlineOf = (call?: ClientCallOptions) =>
    new Date(Date.now() + Duration.toMillis(call?.deadline ?? defaultDeadline))
  const methodOf = (name: string) => definition[name]

  const unary = <Req, Res>(
    name: string,
    request: Req,
    call?: ClientCallOptions,
  ): Effect.Effect<Res, GrpcStatusError> => {
    const method = methodOf(name)
    if (method === undefined) return Effect.fail(unimplemented(`${options.service} has no method ${name}`))
    return Effect.callback<Res, GrpcStatusError>((resume) => {
      const pending = client.makeUnaryRequest<Req, Res>(
        method.path,
        (value) => method.requestSerialize(value as object),
        (buffer) => method.responseDeserialize(buffer) as Res,
        request,
        toMetadata(call?.metadata),
        { deadline: deadlineOf(call) },
        (error, value) =>
          resume(error === null && value !== undefined ? Effect.succeed(value) : Effect.fail(fromServiceError(error))),
      )
      const onHeaders = call?.onHeaders
      if (onHeaders !== undefined) pending.on("metadata", (headers) => onHeaders(metadataToRecord(headers)))
      return Effect.sync(() => pending.cancel())
    })
  }

  const serverStream = <Req, Ev>(
    name: string,
    request: Req,
    call?: ClientCallOptions,
  ): Stream.Stream<Ev, GrpcStatusError> => {
    const method = methodOf(name)
    if (method === undefined) return Stream.fail(unimplemented(`${options.service} has no method ${name}`))
    return Stream.unwrap(
      Effect.acquireRelease(
        Effect.sync(() => {
          const pending = client.makeServerStreamRequest<Req, Ev>(
            method.path,
            (value) => method.requestSerialize(value as object),
            (buffer) => method.responseDeserialize(buffer) as Ev,
            request,
            toMetadata(call?.metadata),
            { deadline: deadlineOf(call) },
          )
          const onHeaders = call?.onHeaders
          if (onHeaders !== undefined) pending.on("metadata", (headers) => onHeaders(metadataToRecord(headers)))
          return pending
        }),
        // a no-op once the call finished; otherwise tells the server we stopped listening
        (pending) => Effect.sync(() => pending.cancel()),
      ).pipe(Effect.map((pending) => Stream.fromAsyncIterable<Ev, GrpcStatusError>(pending, fromServiceError))),
    )
  }

  return { unary, serverStream, client, service: options.service, definition }
})
