import { type FieldBounds, GrpcServer, withCallMetrics, withTokenGate } from "@stagebeam/grpc"
import { loadReasonerPackageDefinition, reasonerServiceName } from "@stagebeam/proto"
import { Duration, Effect, Layer } from "effect"
import { Authentication } from "./Authentication.ts"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { tlsOf } from "./config/Resolve.ts"
import { reasonCalls, reasonDuration } from "./GatewayMetrics.ts"
import { Reasoner } from "./Reasoner.ts"
import { REQUEST_BOUNDS } from "./RequestBounds.ts"

/** Keepalive pings find clients that vanished without closing, so their searches stop holding GPU slots. */
const KEEPALIVE = { time: Duration.seconds(30), timeout: Duration.seconds(10) }

/** A UTF-16 unit takes at most 3 bytes of UTF-8: a string of more bytes than 3 × its bound is over it. */
const UTF8_BYTES_PER_UNIT = 3

const textBound = (chars: number) => ({
  maxBytes: UTF8_BYTES_PER_UNIT * chars,
  // The words of the request schema's own check (RequestSchema), which sees what passes this one.
  expected: `a value with a length of at most ${chars}`,
})

/**
 * The request's text fields bounded on the wire, before grpc-js decodes them: a 20 MB question is refused by its
 * length prefix instead of becoming a string on the event loop. Within 3 × the bound, RequestSchema counts the
 * characters exactly.
 */
export const REASON_REQUEST_BOUNDS: FieldBounds = {
  question: textBound(REQUEST_BOUNDS.questionChars),
  "judge.name": textBound(REQUEST_BOUNDS.nameChars),
  "image.mime_type": textBound(REQUEST_BOUNDS.nameChars),
}

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
          requestBounds: { Reason: REASON_REQUEST_BOUNDS, ReasonStream: REASON_REQUEST_BOUNDS },
        },
      ],
      keepalive: KEEPALIVE,
      drainTimeout: settings.drainTimeout,
      tls: tlsOf(settings),
    })
  }),
)
