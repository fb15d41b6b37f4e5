import { GrpcServer } from "@stagebeam/grpc"
import { reasonerServiceName } from "@stagebeam/proto"
import { Effect, Layer, Schedule } from "effect"
import { Health } from "./Health.ts"

const READINESS_INTERVAL = Schedule.spaced("250 millis")

/**
 * gRPC health follows the Health service (per pool: the generator's and the default judge's pools must have a
 * server up that takes their key), so load balancers route elsewhere while it cannot answer.
 */
export const readinessLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const health = yield* Health
    const server = yield* GrpcServer
    yield* Effect.gen(function* () {
      const { status } = yield* health.report
      yield* server.setServingStatus(reasonerServiceName, status)
      yield* server.setServingStatus("", status)
    }).pipe(Effect.repeat(READINESS_INTERVAL), Effect.forkScoped)
  }),
)
