import { GrpcServer, withCallMetrics, withTokenGate } from "@stagebeam/grpc"
import { loadReasonerPackageDefinition, reasonerServiceName } from "@stagebeam/proto"
import { Duration, Effect, Layer } from "effect"
import { Authentication } from "./Authentication.ts"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { tlsOf } from "./config/Resolve.ts"
import { reasonCalls, reasonDuration } from "./GatewayMetrics.ts"
import { Reasoner } from "./Reasoner.ts"

/** Keepalive pings find clients that vanished without closing, so their searches stop holding GPU slots. */
const KEEPALIVE = { time: Duration.seconds(30), timeout: Duration.seconds(10) }

/**
 * The gRPC server: stagebeam.v1.Reasoner — every call counted and timed, then checked for a bearer token when the
 * settings name a token file — plus health and reflection (open), over TLS when the settings give a certificate.
 */
export const reasonerServerLayer = Layer.unwrap(
  Effect.gen(function* () {
    const settings = yield* GatewaySettings
    const reasoner = yield* Reasoner
    const { gate } = yield* Authentication
    const authenticated = gate === undefined ? reasoner.implementation : withTokenGate(reasoner.implementation, gate)
    return GrpcServer.layer({
      host: settings.grpc.host,
      port: settings.grpc.port,
      packageDefinition: loadReasonerPackageDefinition(),
      services: [
        {
          name: reasonerServiceName,
          implementation: withCallMetrics(authenticated, { calls: reasonCalls, duration: reasonDuration }),
        },
      ],
      keepalive: KEEPALIVE,
      drainTimeout: settings.drainTimeout,
      tls: tlsOf(settings),
    })
  }),
)
