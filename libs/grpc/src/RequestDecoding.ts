import { Effect, Predicate, Schema, SchemaIssue } from "effect"
import { type GrpcStatusError, invalidArgument } from "./GrpcStatusError.ts"

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/** "images.0.mime_type" for a path, "request" for the message itself. */
const fieldName = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string =>
  path.length === 0
    ? "request"
    : path.map((segment) => String(Predicate.isObject(segment) ? segment.key : segment)).join(".")

/**
 * Parses a request (as grpc-js decoded it) with a Schema; a bad request becomes INVALID_ARGUMENT naming the first
 * offending field, so handlers only ever see validated values.
 */
export const decodeRequest = <S extends Schema.Decoder<unknown, unknown>>(schema: S) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return (input: unknown): Effect.Effect<S["Type"], GrpcStatusError, S["DecodingServices"]> =>
    Effect.mapError(decode(input), (error) => {
      const [first] = formatIssues(error.issue).issues
      return invalidArgument(fieldName(first?.path ?? []), first?.message ?? "does not match the schema")
    })
}
