import type { Effect, Stream } from "effect"
import type { CallContext } from "./CallContext.ts"
import type { GrpcStatusError } from "./GrpcStatusError.ts"

/** A unary method: one request, one response (or a status). */
export interface UnaryHandler<Req, Res, R = never> {
  readonly _tag: "Unary"
  readonly handle: (request: Req, ctx: CallContext) => Effect.Effect<Res, GrpcStatusError, R>
}

/** A server-streaming method: one request, a stream of events, then OK (or a status). */
export interface ServerStreamHandler<Req, Ev, R = never> {
  readonly _tag: "ServerStream"
  readonly handle: (request: Req, ctx: CallContext) => Stream.Stream<Ev, GrpcStatusError, R>
}

/** Any method handler needing services R (request/response types erased). */
export type MethodHandler<R = never> = UnaryHandler<never, unknown, R> | ServerStreamHandler<never, unknown, R>

/** A service implementation: one handler per method name as it appears in the .proto (e.g. "ReasonStream"). */
export type ServiceImplementation<R = never> = Readonly<Record<string, MethodHandler<R>>>

export const unary = <Req, Res, R = never>(
  handle: (request: Req, ctx: CallContext) => Effect.Effect<Res, GrpcStatusError, R>,
): UnaryHandler<Req, Res, R> => ({ _tag: "Unary", handle })

export const serverStream = <Req, Ev, R = never>(
  handle: (request: Req, ctx: CallContext) => Stream.Stream<Ev, GrpcStatusError, R>,
): ServerStreamHandler<Req, Ev, R> => ({ _tag: "ServerStream", handle })
