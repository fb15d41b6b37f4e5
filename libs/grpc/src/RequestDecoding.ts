import { Effect, Predicate, Schema, SchemaIssue } from "effect"
import { type GrpcStatusError, invalidArgument } from "./GrpcStatusError.ts"

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * The first problem of a schema error as a field name and a message; `rename` maps each path segment (e.g. to the
 * proto's snake_case when the message was decoded with camelCase names).
 */
export const firstInvalidField = (
  error: Schema.SchemaError,
  rename: (segment: string) => string = (segment) => segment,
): { readonly field: string; readonly message: string } => {
  const [first] = formatIssues(error.issue).issues
  const path = (first?.path ?? []).map((segment) => (Predicate.isObject(segment) ? segment.key : segment))
  return {
    field: path.length === 0 ? "request" : path.map((segment) => rename(String(segment))).join("."),
    message: first?.message ?? "does not match the schema",
  }
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
