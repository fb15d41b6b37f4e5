import { Effect, Predicate, Schema, SchemaIssue } from "effect"
import { type GrpcStatusError, invalidArgument } from "./GrpcStatusError.ts"

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/** The first problem of a schema error: its path (keys and indexes, as the schema names them) and a message. */
export const firstIssue = (
  error: Schema.SchemaError,
): { readonly path: ReadonlyArray<string | number>; readonly message: string } => {
  const [first] = formatIssues(error.issue).issues
  const path = (first?.path ?? []).map((segment) => (Predicate.isObject(segment) ? segment.key : segment))
  return {
    path: path.map((segment) => (typeof segment === "number" ? segment : String(segment))),
    message: first?.message ?? "does not match the schema",
  }
}

/** The first problem of a schema error as a dotted field name ("request" for the message itself) and a message. */
export const firstInvalidField = (error: Schema.SchemaError): { readonly field: string; readonly message: string } => {
  const { path, message } = firstIssue(error)
  return { field: path.length === 0 ? "request" : path.join("."), message }
}

/**
 * Parses a request (as grpc-js decoded it) with a Schema; a bad request becomes INVALID_ARGUMENT naming the first
 * offending field, so handlers only ever see validated values.
 */
export const decodeRequest = <S extends Schema.Decoder<unknown, unknown>>(schema: S) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return (input: unknown): Effect.Effect<S["Type"], GrpcStatusError, S["DecodingServices"]> =>
    Effect.mapError(decode(input), (error) => {
      const { field, message } = firstInvalidField(error)
      return invalidArgument(field, message)
    })
}
