import * as grpc from "@grpc/grpc-js"
import { Predicate, Schema } from "effect"

/**
 * The only error a handler may fail with: a gRPC status code (numeric `grpc.status`), the message the client
 * sees, and optional text metadata sent back as trailers (e.g. the offending field).
 */
export class GrpcStatusError extends Schema.TaggedError<GrpcStatusError>()("GrpcStatusError", {
  code: Schema.Int,
  message: Schema.String,
  metadata: Schema.optional(Schema.Record(Schema.String, Schema.String)),
}) {
  /** The status name, e.g. "INVALID_ARGUMENT". */
  get statusName(): string {
    return grpc.status[this.code] ?? `UNKNOWN_STATUS_${this.code}`
  }
}

const make = (code: grpc.status, message: string, metadata?: Readonly<Record<string, string>>) =>
  new GrpcStatusError(metadata === undefined ? { code, message } : { code, message, metadata: { ...metadata } })

/** Trailer key naming the request field an INVALID_ARGUMENT is about. */
export const invalidFieldKey = "x-invalid-field"

export const invalidArgument = (field: string, message: string): GrpcStatusError =>
  make(grpc.status.INVALID_ARGUMENT, `invalid ${field}: ${message}`, { [invalidFieldKey]: field })

export const resourceExhausted = (message: string, metadata?: Readonly<Record<string, string>>): GrpcStatusError =>
  make(grpc.status.RESOURCE_EXHAUSTED, message, metadata)

export const unavailable = (message: string, metadata?: Readonly<Record<string, string>>): GrpcStatusError =>
  make(grpc.status.UNAVAILABLE, message, metadata)

export const deadlineExceeded = (message = "deadline exceeded"): GrpcStatusError =>
  make(grpc.status.DEADLINE_EXCEEDED, message)

export const cancelled = (message = "cancelled"): GrpcStatusError => make(grpc.status.CANCELLED, message)

export const notFound = (message: string): GrpcStatusError => make(grpc.status.NOT_FOUND, message)

export const failedPrecondition = (message: string, metadata?: Readonly<Record<string, string>>): GrpcStatusError =>
  make(grpc.status.FAILED_PRECONDITION, message, metadata)

export const internal = (message = "internal error"): GrpcStatusError => make(grpc.status.INTERNAL, message)

export const unimplemented = (message: string): GrpcStatusError => make(grpc.status.UNIMPLEMENTED, message)

export const permissionDenied = (message: string): GrpcStatusError => make(grpc.status.PERMISSION_DENIED, message)

export const unauthenticated = (message: string): GrpcStatusError => make(grpc.status.UNAUTHENTICATED, message)

/** grpc.Metadata from a plain record; keys grpc-js rejects (or binary "-bin" keys) are dropped rather than thrown. */
export const toMetadata = (record: Readonly<Record<string, string>> | undefined): grpc.Metadata => {
  const metadata = new grpc.Metadata()
  if (record === undefined) return metadata
  for (const [key, value] of Object.entries(record)) {
    if (key.endsWith("-bin")) continue
    try {
      metadata.set(key, value)
    } catch {
      // invalid header name or value: not worth failing the call over
    }
  }
  return metadata
}

/** Text entries of a grpc.Metadata as a plain record (first value of each key; binary values skipped). */
export const metadataToRecord = (metadata: grpc.Metadata | null | undefined): Record<string, string> => {
  const record: Record<string, string> = {}
  if (metadata == null) return record
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (Predicate.isString(value)) record[key] = value
  }
  return record
}

/** The status object grpc-js expects from a server handler. */
export const toStatusObject = (error: GrpcStatusError): grpc.StatusObject => ({
  code: error.code,
  details: error.message,
  metadata: toMetadata(error.metadata),
})

/** Client side: a grpc-js ServiceError (or anything thrown by a call) as a GrpcStatusError. */
export const fromServiceError = (error: unknown): GrpcStatusError => {
  if (Predicate.hasProperty(error, "code") && Predicate.isNumber(error.code)) {
    const details = Predicate.hasProperty(error, "details") && Predicate.isString(error.details) ? error.details : ""
    const metadata =
      Predicate.hasProperty(error, "metadata") && error.metadata instanceof grpc.Metadata
        ? metadataToRecord(error.metadata)
        : {}
    return make(error.code, details, metadata)
  }
  return make(grpc.status.UNKNOWN, error instanceof Error ? error.message : String(error))
}
