import { fileURLToPath } from "node:url"
import * as protoLoader from "@grpc/proto-loader"

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
