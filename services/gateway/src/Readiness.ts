import { GrpcServer } from "@stagebeam/grpc"
import { reasonerServiceName } from "@stagebeam/proto"
import { Effect, Layer, Stream } from "effect"
import { Health } from "./Health.ts"

/**
 * gRPC health follows the Health service (per pool: the generator's and the default judge's pools must have a
 * server up that takes their key), so load balancers route elsewhere while it cannot answer. It is set when the
 * status changes, not on a timer: an idle gateway wakes for nothing (issue #24).
 */
export const readinessLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const health = yield* Health
    const server = yield* GrpcServer
    yield* health.statusChanges.pipe(
      Stream.runForEach((status) =>
        Effect.andThen(server.setServingStatus(reasonerServiceName, status), server.setServingStatus("", status)),
      ),
      Effect.forkScoped,
    )
  }),
)
