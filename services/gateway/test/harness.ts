import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { loadProto, makeClient } from "@stagebeam/grpc"
import { loadReasonerPackageDefinition, makeReasonerClient, reasonerServiceName } from "@stagebeam/proto"
import { type RunningSimulator, type SimulatorOptions, serveSimulator } from "@stagebeam/vllm-sim"
import { Duration, Effect, Layer } from "effect"
import sharp from "sharp"
import { GatewaySettings } from "../src/config/GatewaySettings.ts"
import { mergeInput } from "../src/config/Merge.ts"
import type { SettingsInput } from "../src/config/Settings.ts"
import { serveGateway } from "../src/Gateway.ts"

const require = createRequire(import.meta.url)

/**
 * A gateway over its embedded simulated fleet (or the settings given), a typed client for it and an untyped one
 * (for requests the proto's types would not allow); all live as long as the test's scope.
 */
export const startGateway = (settings: SettingsInput = {}) =>
  Effect.gen(function* () {
    const gateway = yield* serveGateway
    const client = yield* makeReasonerClient({ address: gateway.address, defaultDeadline: "60 seconds" })
    const raw = yield* makeClient({
      address: gateway.address,
      packageDefinition: loadReasonerPackageDefinition(),
      service: reasonerServiceName,
      defaultDeadline: "60 seconds",
    })
    return { gateway, client, raw }
  }).pipe(Effect.provide(Layer.fresh(GatewaySettings.layerTest(settings))))

/** A small real PNG. */
export const pngImage = (width = 64, height = 48) =>
  Effect.promise(() =>
    sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } })
      .png()
      .toBuffer(),
  )

/** Simulated servers started by the test itself, so it can read their counters and inject faults. */
export const startSimulators = (count: number, options: Omit<SimulatorOptions, "port" | "host"> = {}) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => i),
    (i) => serveSimulator({ port: 0, host: "127.0.0.1", speed: 500, seed: i + 1, ...options }).pipe(Effect.orDie),
  )

/** Base URLs of the servers, as the settings list endpoints. */
export const urlsOf = (servers: ReadonlyArray<RunningSimulator>) => servers.map((server) => server.url)

/** A gateway whose generator pool is the given servers. */
export const startGatewayOver = (servers: ReadonlyArray<RunningSimulator>, settings: SettingsInput = {}) =>
  startGateway(mergeInput<SettingsInput>({ pools: { generator: { endpoints: urlsOf(servers) } } }, settings))

/** Polls `check` every 20 ms until it holds, for at most `attempts` tries (a bounded loop, not a timing assertion). */
export const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, attempts = 250) =>
  Effect.gen(function* () {
    for (let i = 0; i < attempts; i++) {
      if (yield* check) return true
      yield* Effect.sleep(Duration.millis(20))
    }
    return false
  })

const healthProto = join(dirname(require.resolve("grpc-health-check/package.json")), "proto/health/v1/health.proto")

/** grpc.health.v1 Check of `service` on the gateway. */
export const healthOf = (address: string, service: string) =>
  Effect.gen(function* () {
    const client = yield* makeClient({
      address,
      packageDefinition: yield* loadProto(healthProto),
      service: "grpc.health.v1.Health",
    })
    const reply = yield* client.unary<{ service: string }, { status: string }>("Check", { service })
    return reply.status
  }).pipe(Effect.scoped)
