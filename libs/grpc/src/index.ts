export {
  makeTokenGate,
  parseTokens,
  type Token,
  type TokenGate,
  watchTokenFile,
  withBearerTokens,
  withTokenGate,
} from "./BearerAuth.ts"
export type { CallContext } from "./CallContext.ts"
export { type CallMetrics, withCallMetrics } from "./CallMetrics.ts"
export type { FieldBound, FieldBounds } from "./FieldBounds.ts"
export { type ClientCallOptions, type GrpcClient, type GrpcClientOptions, makeClient } from "./GrpcClient.ts"
export {
  GrpcServer,
  GrpcServerError,
  type GrpcServerOptions,
  type KeepaliveOptions,
  mebibytes,
  type RunningGrpcServer,
  type ServiceRegistration,
  type ServingStatus,
} from "./GrpcServer.ts"
export * as GrpcStatus from "./GrpcStatusError.ts"
export { GrpcStatusError } from "./GrpcStatusError.ts"
export {
  type MethodHandler,
  type ServerStreamHandler,
  type ServiceImplementation,
  serverStream,
  type UnaryHandler,
  unary,
} from "./Handlers.ts"
export { checkHealth, type HealthStatus } from "./HealthClient.ts"
export { defaultLoaderOptions, findService, loadProto, ProtoPackageError } from "./ProtoPackage.ts"
export { decodeRequest, firstInvalidField, firstIssue } from "./RequestDecoding.ts"
export type { ClientTls, ServerTls } from "./Tls.ts"
export { type MethodKinds, type TypedClient, typedClient } from "./TypedClient.ts"
