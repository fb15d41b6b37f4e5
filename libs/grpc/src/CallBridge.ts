import * as grpc from "@grpc/grpc-js"
import { Cause, Effect, Exit, type Fiber, Option, Stream } from "effect"
import { type CallContext, makeCallContext } from "./CallContext.ts"
import { type GrpcStatusError, toMetadata, toStatusObject } from "./GrpcStatusError.ts"
import type { ServerStreamHandler, UnaryHandler } from "./Handlers.ts"

/** Forks a handler fiber on the server's runtime (its services, its FiberSet). */
export type RunFork<R> = <A, E>(effect: Effect.Effect<A, E, R>) => Fiber.Fiber<A, E>

/**
 * The status for a handler that ended without success while its call is still open. Defects are bugs: the client
 * gets a generic INTERNAL and the cause goes to the log. A bare interruption while the call is still open means the
 * server is going away.
 */
const failureStatus = (cause: Cause.Cause<GrpcStatusError>, path: string): Effect.Effect<grpc.StatusObject> => {
  if (Cause.hasDies(cause)) {
    return Effect.as(Effect.logError(`gRPC handler ${path} died`, cause), {
      code: grpc.status.INTERNAL,
      details: "internal error",
      metadata: new grpc.Metadata(),
    })
  }
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error)) return Effect.succeed(toStatusObject(error.value))
  return Effect.succeed({
    code: grpc.status.UNAVAILABLE,
    details: "the server is shutting down: the call did not finish within its drain time",
    metadata: new grpc.Metadata(),
  })
}

/**
 * Per-call bookkeeping shared by both call kinds: "over" once grpc-js says the call ended ('cancelled' fires on
 * client cancel, deadline, shutdown, and also after a normal end), and the handler fiber is interrupted then.
 */
const watchCall = (
  call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
  start: (ctx: CallContext, isOver: () => boolean, sendHeaders: () => void) => Fiber.Fiber<unknown, unknown>,
): void => {
  const abort = new AbortController()
  let over = call.cancelled
  if (over) return
  const headers = new Map<string, string>()
  let headersSent = false
  // Response headers go out once, before the first message or the status.
  const sendHeaders = () => {
    if (headersSent || headers.size === 0) return
    headersSent = true
    call.sendMetadata(toMetadata(Object.fromEntries(headers)))
  }
  const ctx = makeCallContext(call, abort.signal, headers)
  const fiber = start(ctx, () => over, sendHeaders)
  call.once("cancelled", () => {
    over = true
    abort.abort()
    fiber.interruptUnsafe()
  })
}

export const bindUnary =
  <R>(handler: UnaryHandler<never, unknown, R>, runFork: RunFork<R>) =>
  (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void =>
    watchCall(call, (ctx, isOver, sendHeaders) =>
      runFork(
        Effect.suspend(() => handler.handle(call.request as never, ctx)).pipe(
          Effect.onExit((exit) => {
            if (isOver()) return Effect.void
            sendHeaders()
            if (Exit.isSuccess(exit)) return Effect.sync(() => callback(null, exit.value))
            return Effect.map(failureStatus(exit.cause, ctx.path), (status) => callback(status))
          }),
          // the outcome is already answered to the client; nothing is left for the FiberSet to record
          Effect.exit,
        ),
      ),
    )

/** Writes one event, waiting for 'drain' when grpc-js reports its buffer full (call.write() === false). */
const writeEvent = (
  call: grpc.ServerWritableStream<unknown, unknown>,
  isOver: () => boolean,
  sendHeaders: () => void,
  event: unknown,
) =>
  Effect.callback<void>((resume) => {
    if (!isOver()) sendHeaders()
    // once the call is over the fiber is being interrupted; writing would only raise stream errors
    if (isOver() || call.write(event)) {
      resume(Effect.void)
      return
    }
    const onDrain = () => resume(Effect.void)
    call.once("drain", onDrain)
    return Effect.sync(() => call.removeListener("drain", onDrain))
  })

export const bindServerStream =
  <R>(handler: ServerStreamHandler<never, unknown, R>, runFork: RunFork<R>) =>
  (call: grpc.ServerWritableStream<unknown, unknown>): void =>
    watchCall(call, (ctx, isOver, sendHeaders) =>
      runFork(
        Stream.suspend(() => handler.handle(call.request as never, ctx)).pipe(
          Stream.runForEach((event) => writeEvent(call, isOver, sendHeaders, event)),
          Effect.onExit((exit) => {
            if (isOver()) return Effect.void
            sendHeaders()
            if (Exit.isSuccess(exit)) return Effect.sync(() => call.end())
            // grpc-js turns an 'error' event on the call into the final status, after pending writes flush
            return Effect.map(failureStatus(exit.cause, ctx.path), (status) => call.emit("error", status))
          }),
          Effect.exit,
        ),
      ),
    )
