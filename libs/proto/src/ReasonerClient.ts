import { type GrpcClientOptions, makeClient, type TypedClient, typedClient } from "@stagebeam/grpc"
import { Effect } from "effect"
import { loadReasonerPackageDefinition, reasonerServiceName } from "./Contract.ts"
import type { ReasonerDefinition } from "./generated/stagebeam/v1/Reasoner.ts"

const KINDS = { Reason: "unary", ReasonStream: "serverStream", ListJudges: "unary", Describe: "unary" } as const

/** A client of stagebeam.v1.Reasoner typed by the proto: `client.Reason(request)`, `client.ReasonStream(request)`, `client.ListJudges({})`. */
export type ReasonerClient = TypedClient<ReasonerDefinition, typeof KINDS>

export type ReasonerClientOptions = Omit<GrpcClientOptions, "packageDefinition" | "service">

/** Connects lazily (as grpc-js does); the channel closes with the scope. Every call has a deadline. */
export const makeReasonerClient = (options: ReasonerClientOptions) =>
  Effect.flatMap(
    makeClient({ ...options, packageDefinition: loadReasonerPackageDefinition(), service: reasonerServiceName }),
    (client) => typedClient<ReasonerDefinition>()(client, KINDS),
  )
