import { Context, Effect, Layer } from "effect"
import type { GatewayConfigError } from "../GatewayErrors.ts"
import { decodeSettings } from "./Decode.ts"
import { readEnvironment } from "./Environment.ts"
import { mergeInput } from "./Merge.ts"
import type { Settings, SettingsInput } from "./Settings.ts"

/** What tests start from: loopback, free ports, a fast embedded fleet, quick probes. */
const TEST_SETTINGS: SettingsInput = {
  grpc: { host: "127.0.0.1", port: 0 },
  http: { host: "127.0.0.1", port: 0 },
  metrics: { port: 0 },
  upstream: { healthInterval: "1s", metricsInterval: "100ms" },
  simulator: { servers: 2, speed: 500 },
  // Tests read their calls' outcomes from gRPC, not from access lines; warnings and errors still show.
  log: { level: "warning" },
}

/** The gateway's settings, decoded and checked once. */
export class GatewaySettings extends Context.Service<GatewaySettings, Settings>()(
  "@stagebeam/gateway/GatewaySettings",
) {
  /** The settings given (defaults for the rest); reads no environment. */
  static readonly layer = (input: SettingsInput = {}): Layer.Layer<GatewaySettings, GatewayConfigError> =>
    Layer.effect(GatewaySettings, decodeSettings(input))

  /** The file named by STAGEBEAM_CONFIG and the STAGEBEAM_* variables, through Effect's ConfigProvider. */
  static readonly layerFromEnvironment: Layer.Layer<GatewaySettings, GatewayConfigError> = Layer.effect(
    GatewaySettings,
    Effect.flatMap(readEnvironment, ({ input, origins }) => decodeSettings(input, origins)),
  )

  /** For tests: the test defaults with `input` on top; reads no environment. */
  static readonly layerTest = (input: SettingsInput = {}): Layer.Layer<GatewaySettings, GatewayConfigError> =>
    GatewaySettings.layer(mergeInput(TEST_SETTINGS, input))
}
