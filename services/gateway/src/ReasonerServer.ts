import { GrpcServer, withCallMetrics } from "@stagebeam/grpc"
import { loadReasonerPackageDefinition, reasonerServiceName } from "@stagebeam/proto"
import { Duration, Effect, Layer } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { reasonCalls, reasonDuration } from "./GatewayMetrics.ts"
import { Reasoner } from "./Reasoner.ts"

/** Keepalive pings find clients that vanished without closing, so their searches stop holding GPU slots. */
const KEEPALIVE = { time: Duration.seconds(30), timeout: Duration.seconds(10) }

/** The gRPC server: stagebeam.v1.Reasoner (every call counted and timed), health and reflection. */
export const reasonerServerLayer = Layer.unwrap(
  Effect.gen(function* () {
    const settings = yield* GatewaySettings
    const reasoner = yield* Reasoner
    return GrpcServer.layer({
      host: settings.grpc.host,
      port: settings.grpc.port,
      packageDefinition: loadReasonerPackageDefinition(),
      services: [
        {
          name: reasonerServiceName,
          implementation: withCallMetrics(reasoner.implementation, { calls: reasonCalls, duration: reasonDuration }),
        },
      ],
      keepalive: KEEPALIVE,
      drainTimeout: settings.drainTimeout,
    })
  }),
)
