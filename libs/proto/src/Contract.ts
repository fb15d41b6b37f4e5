import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as protoLoader from "@grpc/proto-loader"

export const reasonerProtoFile = "stagebeam/v1/reasoner.proto"

/**
 * The directory holding `stagebeam/v1/reasoner.proto` (the public contract): the repository's, or the copy beside
 * the bundled CLI that `npm pack` ships (dist/cli/stagebeam.js, with proto/ two levels up, where its CommonJS
 * dependencies look for theirs).
 */
const PROTO_ROOTS = [new URL("../../../proto/", import.meta.url), new URL("../../proto/", import.meta.url)]
export const protoRoot = fileURLToPath(
  PROTO_ROOTS.find((root) => existsSync(new URL(reasonerProtoFile, root))) ?? PROTO_ROOTS[0]!,
)
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
