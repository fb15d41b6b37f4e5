import { Fleet } from "@stagebeam/fleet"
import { GrpcServer } from "@stagebeam/grpc"
import { reasonerServiceName } from "@stagebeam/proto"
import { Effect, Layer, Metric, Schedule } from "effect"
import { GENERATOR_POOL } from "./config/Resolve.ts"
import { endpointsUp } from "./GatewayMetrics.ts"

const READINESS_INTERVAL = Schedule.spaced("1 second")

/**
 * Readiness follows the fleet: the health service says NOT_SERVING while no generator server is up, so load
 * balancers route elsewhere; every pool's up servers are a gauge.
 */
export const readinessLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const fleet = yield* Fleet
    const server = yield* GrpcServer
    const generator = yield* fleet.pool(GENERATOR_POOL)
    yield* Effect.gen(function* () {
      for (const pool of fleet.pools.values()) {
        yield* Metric.update(Metric.withAttributes(endpointsUp, { pool: pool.name }), yield* pool.upCount)
      }
      const status = (yield* generator.upCount) > 0 ? "SERVING" : "NOT_SERVING"
      yield* server.setServingStatus(reasonerServiceName, status)
      yield* server.setServingStatus("", status)
    }).pipe(Effect.repeat(READINESS_INTERVAL), Effect.forkScoped)
  }),
)
