import { makeClient } from "@stagebeam/grpc"
import { loadReasonerPackageDefinition, reasonerServiceName } from "@stagebeam/proto"
import { Duration, Effect, Layer } from "effect"
import sharp from "sharp"
import { serveGateway } from "../src/Gateway.ts"
import { GatewaySettings, type Settings } from "../src/Settings.ts"

/** Test settings: loopback, a random port, a fast embedded fleet. */
export const testSettings = (overrides: Partial<Settings> = {}) =>
  GatewaySettings.layerWith({
    grpcHost: "127.0.0.1",
    grpcPort: 0,
    simServers: 2,
    simSpeed: 500,
    healthInterval: Duration.seconds(1),
    ...overrides,
  })

/** A gateway over its embedded simulated fleet, and a client for it; both live as long as the test's scope. */
export const startGateway = (overrides: Partial<Settings> = {}) =>
  Effect.gen(function* () {
    const gateway = yield* serveGateway
    const client = yield* makeClient({
      address: gateway.address,
      packageDefinition: loadReasonerPackageDefinition(),
      service: reasonerServiceName,
      defaultDeadline: "60 seconds",
    })
    return { gateway, client }
  }).pipe(Effect.provide(Layer.fresh(testSettings(overrides))))

/** A small real PNG. */
export const pngImage = (width = 64, height = 48) =>
  Effect.promise(() =>
    sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } })
      .png()
      .toBuffer(),
  )
