import type * as grpc from "@grpc/grpc-js"
import { metadataToRecord } from "./GrpcStatusError.ts"

/** What a handler may know about the call it serves. */
export interface CallContext {
  /** Full method path, e.g. "/stagebeam.v1.Reasoner/Reason". */
  readonly path: string
  /** Text request metadata, first value per key (lower-case keys). */
  readonly metadata: Readonly<Record<string, string>>
  /** The raw request metadata (binary values, repeated keys). */
  readonly rawMetadata: grpc.Metadata
  /** The client's address as grpc-js reports it, e.g. "127.0.0.1:53412". */
  readonly peer: string
  /** Absolute deadline in epoch milliseconds, undefined when the client set none. */
  readonly deadline: number | undefined
  /** Aborted when the call is over (client cancel, deadline, shutdown, or normal end); for non-Effect code. */
  readonly signal: AbortSignal
  /** Sets a response header (initial metadata): sent with the first message, or with the status if none. */
  readonly setHeader: (key: string, value: string) => void
  /** The name of the bearer token the call was admitted with (withTokenGate); undefined when no token is asked. */
  readonly caller?: string | undefined
}

const deadlineMillis = (deadline: grpc.Deadline): number | undefined => {
  const millis = deadline instanceof Date ? deadline.getTime() : deadline
  return Number.isFinite(millis) ? millis : undefined
}

/** The part of a server call (unary or streaming) the context is built from. */
type SurfaceCall = Pick<grpc.ServerUnaryCall<unknown, unknown>, "getPath" | "metadata" | "getPeer" | "getDeadline">

const safePeer = (call: SurfaceCall): string => {
  try {
    return call.getPeer()
  } catch {
    return "unknown"
  }
}

export const makeCallContext = (call: SurfaceCall, signal: AbortSignal, headers: Map<string, string>): CallContext => ({
  path: call.getPath(),
  metadata: metadataToRecord(call.metadata),
  rawMetadata: call.metadata,
  peer: safePeer(call),
  deadline: deadlineMillis(call.getDeadline()),
  signal,
  setHeader: (key, value) => {
    headers.set(key.toLowerCase(), value)
  },
})
