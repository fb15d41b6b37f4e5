import * as protoLoader from "@grpc/proto-loader"
import { Effect } from "effect"
import { protoPath } from "grpc-health-check"
import { type GrpcClientOptions, makeClient } from "./GrpcClient.ts"
import { defaultLoaderOptions } from "./ProtoPackage.ts"

/** What grpc.health.v1 Check answers for a service: "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN", … */
export type HealthStatus = string

/** grpc.health.v1.Health Check of `service` ("" = the whole server), over the client's channel options. */
export const checkHealth = (
  options: Omit<GrpcClientOptions, "packageDefinition" | "service">,
  service: string,
  metadata?: Readonly<Record<string, string>>,
) =>
  Effect.gen(function* () {
    const client = yield* makeClient({
      ...options,
      packageDefinition: protoLoader.loadSync(protoPath, defaultLoaderOptions),
      service: "grpc.health.v1.Health",
    })
    const reply = yield* client.unary<{ service: string }, { status: HealthStatus }>(
      "Check",
      { service },
      metadata === undefined ? {} : { metadata },
    )
    return reply.status
  }).pipe(Effect.scoped)
