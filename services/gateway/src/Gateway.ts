import { describeCapabilities, Fleet, OpenAiClient } from "@stagebeam/fleet"
import { GrpcServer } from "@stagebeam/grpc"
import { Context, Effect, Layer } from "effect"
import { Admission } from "./Admission.ts"
import { Authentication } from "./Authentication.ts"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { Drain, shutdownLayer } from "./Drain.ts"
import { Health } from "./Health.ts"
import { HttpGateway } from "./http/HttpGateway.ts"
import { Images } from "./images/Images.ts"
import { MetricsRefresh } from "./MetricsRefresh.ts"
import { MetricsServer } from "./MetricsServer.ts"
import { observabilityLayer } from "./Observability.ts"
import { eventLoopMetricsLayer, gcMetricsLayer, processMetricsLayer } from "./ProcessMetrics.ts"
import { readinessLayer } from "./Readiness.ts"
import { Reasoner } from "./Reasoner.ts"
import { reasonerServerLayer } from "./ReasonerServer.ts"
import { Reasoning } from "./Reasoning.ts"
import { recordBuildInfo } from "./SearchMetrics.ts"
import { fleetLayer, generatorLayer, judgesLayer } from "./SearchServices.ts"
import { hangupLayer } from "./Signals.ts"
import { tokenizerLayer } from "./StrategySupport.ts"

/** Says where the gateway listens and what it serves, once everything is up. */
const startupLog = Layer.effectDiscard(
  Effect.gen(function* () {
    const server = yield* GrpcServer
    const metrics = yield* MetricsServer
    const fleet = yield* Fleet
    yield* Effect.log(`stagebeam gateway listening on ${server.address} (gRPC stagebeam.v1.Reasoner)`)
    const http = yield* HttpGateway
    if (http.url !== undefined) {
      yield* Effect.log(`HTTP on ${http.url}: OpenAI-compatible /v1/chat/completions, the search page on ${http.url}/`)
    }
    yield* Effect.log(`metrics on ${metrics.url}`)
    yield* recordBuildInfo
    for (const pool of fleet.pools.values()) {
      const servers = (yield* pool.snapshot).map((state) => state.url).join(", ")
      yield* Effect.log(`pool ${pool.name}: ${pool.model} on ${servers}`)
      yield* Effect.log(`pool ${pool.name} capabilities: ${describeCapabilities(yield* pool.capabilities)}`)
    }
  }),
)

/**
 * The whole gateway as one layer over its settings. Bottom to top: the OpenAI client; the Fleet of pools; the search's services over it (generator, judges) and admission; the
 * Reasoning path and its gRPC door (Reasoner); the gRPC, HTTP and metrics servers; readiness, process metrics, the
 * start-up log and the shutdown that drains every door at once.
 */
export const GatewayLayer = Layer.mergeAll(
  readinessLayer,
  startupLog,
  processMetricsLayer,
  eventLoopMetricsLayer,
  gcMetricsLayer,
  shutdownLayer,
  hangupLayer,
).pipe(
  Layer.provideMerge(Layer.mergeAll(reasonerServerLayer, HttpGateway.layer, MetricsServer.layer)),
  Layer.provideMerge(Reasoner.layer),
  Layer.provideMerge(Reasoning.layer),
  Layer.provideMerge(
    Layer.mergeAll(
      generatorLayer,
      judgesLayer,
      Admission.layer,
      Images.layer,
      Authentication.layer,
      Drain.layer,
      Health.layer,
      tokenizerLayer,
    ),
  ),
  Layer.provideMerge(fleetLayer),
  Layer.provideMerge(MetricsRefresh.layer),
  Layer.provide(OpenAiClient.layer),
  Layer.provide(observabilityLayer),
)

/** A gateway started in the caller's scope, for tests and benchmarks. */
export interface RunningGateway {
  /** "host:port" the gRPC server listens on. */
  readonly address: string
  readonly port: number
  /** The HTTP door's base URL (OpenAI-compatible API, events, page); undefined when http.enabled is false. */
  readonly httpUrl: string | undefined
  /** Where Prometheus scrapes the gateway's metrics. */
  readonly metricsUrl: string
  readonly fleet: Fleet["Service"]
}

/** Starts the gateway for the scope's life over the GatewaySettings given. */
export const serveGateway = Effect.gen(function* () {
  const context = yield* Layer.build(GatewayLayer)
  const server = Context.get(context, GrpcServer)
  return {
    address: server.address,
    port: server.port,
    httpUrl: Context.get(context, HttpGateway).url,
    metricsUrl: Context.get(context, MetricsServer).url,
    fleet: Context.get(context, Fleet),
  } satisfies RunningGateway
})

export { GatewaySettings }
