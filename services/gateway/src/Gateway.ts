import { BOUNDS } from "@stagebeam/cot"
import { GeneratorPool, JudgePool, makePool, OpenAiClient, type Pool, type PoolOptions } from "@stagebeam/fleet"
import { GrpcServer } from "@stagebeam/grpc"
import { loadReasonerPackageDefinition, reasonerServiceName } from "@stagebeam/proto"
import { Duration, Effect, Layer, Metric, Option, Schedule } from "effect"
import { Admission } from "./Admission.ts"
import { startEmbeddedFleet } from "./EmbeddedFleet.ts"
import { makeFleetGenerator } from "./FleetGenerator.ts"
import { GatewayConfigError } from "./GatewayErrors.ts"
import { endpointsUp } from "./GatewayMetrics.ts"
import { serveMetrics } from "./MetricsServer.ts"
import { makeReasoner } from "./Reasoner.ts"
import { GatewaySettings, type Settings } from "./Settings.ts"

export interface RunningGateway {
  /** "host:port" the gRPC server listens on. */
  readonly address: string
  readonly port: number
  readonly generatorEndpoints: ReadonlyArray<string>
  /** True when the fleet is the embedded simulator. */
  readonly simulated: boolean
  readonly generatorPool: Pool
  /** Where Prometheus scrapes the gateway's metrics. */
  readonly metricsUrl: string
}

const READINESS_INTERVAL = Schedule.spaced("1 second")

const poolOptions = (
  settings: Settings,
  name: string,
  endpoints: ReadonlyArray<string>,
  model: string,
): PoolOptions => ({
  name,
  endpoints,
  model,
  requestTimeout: settings.upstreamTimeout,
  maxAttempts: settings.upstreamAttempts,
  failureThreshold: settings.failureThreshold,
  cooldown: settings.cooldown,
  healthInterval: settings.healthInterval,
  metricsInterval: settings.metricsInterval,
})

const checkSettings = (settings: Settings) => {
  if (settings.judge === "model" && settings.judgeEndpoints.length === 0) {
    return Effect.fail(
      new GatewayConfigError({
        message: "STAGEBEAM_JUDGE=model needs STAGEBEAM_JUDGE_ENDPOINTS (the judge's servers)",
      }),
    )
  }
  if (Duration.toMillis(settings.defaultDeadline) > BOUNDS.deadlineMs.maximum) {
    return Effect.fail(
      new GatewayConfigError({
        message: `STAGEBEAM_DEFAULT_DEADLINE must be at most ${BOUNDS.deadlineMs.maximum / 1000} seconds`,
      }),
    )
  }
  if (!(settings.simSpeed > 0)) {
    return Effect.fail(new GatewayConfigError({ message: "STAGEBEAM_SIM_SPEED must be positive" }))
  }
  if (settings.maxQueued < 0) {
    return Effect.fail(new GatewayConfigError({ message: "STAGEBEAM_MAX_QUEUED must not be negative" }))
  }
  return Effect.void
}

/** Keepalive pings find clients that vanished without closing, so their searches stop holding GPU slots. */
const KEEPALIVE = { time: Duration.seconds(30), timeout: Duration.seconds(10) }

/** Starts the whole gateway (fleet pools, Reasoner, gRPC server with health and reflection) for the scope's life. */
export const serveGateway = Effect.gen(function* () {
  const settings = yield* GatewaySettings
  yield* checkSettings(settings)
  const simulated = settings.endpoints.length === 0
  const generatorEndpoints = simulated
    ? (yield* startEmbeddedFleet({ servers: settings.simServers, speed: settings.simSpeed, model: settings.model }))
        .urls
    : settings.endpoints

  const generatorPool = yield* makePool(poolOptions(settings, "generator", generatorEndpoints, settings.model))
  const judgePool =
    settings.judgeEndpoints.length === 0
      ? Option.none<Pool>()
      : Option.some(
          yield* makePool(
            poolOptions(settings, "judge", settings.judgeEndpoints, settings.judgeModel || settings.model),
          ),
        )

  const implementation = yield* makeReasoner.pipe(
    Effect.provide(makeFleetGenerator(settings.maxSamplesPerRequest)),
    Effect.provideService(GeneratorPool, generatorPool),
    Option.isSome(judgePool) ? Effect.provideService(JudgePool, judgePool.value) : (self) => self,
  )

  const server = yield* GrpcServer.make({
    host: settings.grpcHost,
    port: settings.grpcPort,
    packageDefinition: loadReasonerPackageDefinition(),
    services: [{ name: reasonerServiceName, implementation }],
    keepalive: KEEPALIVE,
  })

  const metricsUrl = yield* serveMetrics(settings.grpcHost, settings.metricsPort)

  // Readiness follows the fleet: NOT_SERVING while no generator server is up, so load balancers route elsewhere.
  yield* Effect.gen(function* () {
    const up = yield* generatorPool.upCount
    yield* Metric.update(Metric.withAttributes(endpointsUp, { pool: generatorPool.name }), up)
    if (Option.isSome(judgePool)) {
      const judgesUp = yield* judgePool.value.upCount
      yield* Metric.update(Metric.withAttributes(endpointsUp, { pool: judgePool.value.name }), judgesUp)
    }
    const status = up > 0 ? "SERVING" : "NOT_SERVING"
    yield* server.setServingStatus(reasonerServiceName, status)
    yield* server.setServingStatus("", status)
  }).pipe(Effect.repeat(READINESS_INTERVAL), Effect.forkScoped)

  return {
    address: server.address,
    port: server.port,
    generatorEndpoints,
    simulated,
    generatorPool,
    metricsUrl,
  } satisfies RunningGateway
}).pipe(Effect.provide(Layer.mergeAll(OpenAiClient.layer, Admission.layer)))
