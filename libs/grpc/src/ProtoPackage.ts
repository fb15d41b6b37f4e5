import * as protoLoader from "@grpc/proto-loader"
import { Effect, Predicate, Schema } from "effect"

/** Loading a .proto, finding a service in it, or wiring a service failed. */
export class ProtoPackageError extends Schema.TaggedError<ProtoPackageError>()("ProtoPackageError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}

/** Options that keep field names as written and 64-bit ints as strings (JSON-safe, no precision loss). */
export const defaultLoaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
}

/** Loads .proto files into a package definition (the input of both GrpcServer and GrpcClient). */
export const loadProto = (
  files: string | ReadonlyArray<string>,
  options: protoLoader.Options = defaultLoaderOptions,
): Effect.Effect<protoLoader.PackageDefinition, ProtoPackageError> =>
  Effect.tryPromise({
    try: () => protoLoader.load(Predicate.isString(files) ? files : [...files], options),
    catch: (cause) => new ProtoPackageError({ message: `cannot load proto ${String(files)}`, cause }),
  })

const isServiceDefinition = (
  definition: protoLoader.AnyDefinition | undefined,
): definition is protoLoader.ServiceDefinition => definition !== undefined && !("format" in definition)

/** The service named by its full name (e.g. "stagebeam.v1.Reasoner") in a package definition. */
export const findService = (
  packageDefinition: protoLoader.PackageDefinition,
  serviceName: string,
): Effect.Effect<protoLoader.ServiceDefinition, ProtoPackageError> => {
  const definition = packageDefinition[serviceName]
  return isServiceDefinition(definition)
    ? Effect.succeed(definition)
    : Effect.fail(new ProtoPackageError({ message: `no service ${serviceName} in the package definition` }))
}
