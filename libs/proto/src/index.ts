import { fileURLToPath } from "node:url"
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import type { ProtoGrpcType } from "./generated/reasoner.ts"

export type { ProtoGrpcType } from "./generated/reasoner.ts"
export type { ReasonEvent, ReasonEvent__Output } from "./generated/stagebeam/v1/ReasonEvent.ts"
export type { ReasonerClient } from "./generated/stagebeam/v1/Reasoner.ts"
export type { ReasonRequest, ReasonRequest__Output } from "./generated/stagebeam/v1/ReasonRequest.ts"
export type { ReasonResponse, ReasonResponse__Output } from "./generated/stagebeam/v1/ReasonResponse.ts"

/** The directory holding `stagebeam/v1/reasoner.proto` (the public contract). */
export const protoRoot = fileURLToPath(new URL("../../../proto", import.meta.url))
export const reasonerProtoFile = "stagebeam/v1/reasoner.proto"
export const reasonerServiceName = "stagebeam.v1.Reasoner"

/** Must match the options the types in ./generated were generated with (see the root `gen:proto` script). */
export const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
}

export const loadReasonerPackageDefinition = (): protoLoader.PackageDefinition =>
  protoLoader.loadSync(reasonerProtoFile, loaderOptions)

export const loadReasonerProto = (definition = loadReasonerPackageDefinition()): ProtoGrpcType =>
  grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType

/** A typed client for the Reasoner service. */
export const makeReasonerClient = (
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options?: grpc.ClientOptions,
) => {
  const proto = loadReasonerProto()
  return new proto.stagebeam.v1.Reasoner(address, credentials, {
    "grpc.max_send_message_length": 64 * 1024 * 1024,
    ...options,
  })
}
