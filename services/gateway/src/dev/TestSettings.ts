import { Context, Effect, Layer, Option, Scope } from "effect"
import { decodeSettings } from "../config/Decode.ts"
import { GatewaySettings as ProductionSettings } from "../config/GatewaySettings.ts"
import { mergeInput } from "../config/Merge.ts"
import type { SettingsInput } from "../config/Settings.ts"
import type { GatewayConfigError } from "../GatewayErrors.ts"
import { DEFAULT_SIMULATOR, type SimulatorOptions, withSimulatedFleet } from "./SimulatedFleet.ts"

/** What tests start from: loopback, free ports, quick probes. */
const TEST_SETTINGS: SettingsInput = {
  grpc: { host: "127.0.0.1", port: 0 },
  http: { host: "127.0.0.1", port: 0 },
  metrics: { port: 0 },
  upstream: { healthInterval: "1s", metricsInterval: "100ms" },
  // Tests read their calls' outcomes from gRPC, not from access lines; warnings and errors still show.
  log: { level: "warning" },
}

/** A test's settings, and the simulated fleet it runs over when it names no generator servers. */
export type TestSettingsInput = SettingsInput & { readonly simulator?: Partial<SimulatorOptions> }

/**
 * The test defaults with `input` on top, over a fast simulated fleet (unless it names servers); reads no environment.
 * The simulated servers live in the caller's scope where there is one: `serveGateway.pipe(Effect.provide(layer))`
 * closes the layer's own scope as soon as the gateway is built, while the gateway runs on in the caller's.
 */
export const layerTest = ({
  simulator,
  ...input
}: TestSettingsInput = {}): Layer.Layer<ProductionSettings, GatewayConfigError> =>
  Layer.fromBuild((_, layerScope) =>
    Effect.gen(function* () {
      const scope = Option.getOrElse(yield* Effect.serviceOption(Scope.Scope), () => layerScope)
      const options = { ...DEFAULT_SIMULATOR, speed: 500, ...simulator }
      const fleet = yield* withSimulatedFleet(mergeInput(TEST_SETTINGS, input), options).pipe(Scope.provide(scope))
      return Context.make(ProductionSettings, yield* decodeSettings(fleet.input))
    }),
  )

/** The settings service with the tests' layer: what the library entry (index.ts) exports for tests and benchmarks. */
export class GatewaySettings extends ProductionSettings {
  static readonly layerTest = layerTest
}
