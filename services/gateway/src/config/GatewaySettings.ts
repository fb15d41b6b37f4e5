import { Context, Effect, Layer } from "effect"
import type { GatewayConfigError } from "../GatewayErrors.ts"
import { decodeSettings } from "./Decode.ts"
import { readEnvironment, unknownVariables } from "./Environment.ts"
import { settingsYaml } from "./Redact.ts"
import type { Settings, SettingsInput } from "./Settings.ts"

/** The gateway's settings, decoded and checked once. */
export class GatewaySettings extends Context.Service<GatewaySettings, Settings>()(
  "@stagebeam/gateway/GatewaySettings",
) {
  /** The settings given (defaults for the rest); reads no environment. */
  static readonly layer = (input: SettingsInput = {}): Layer.Layer<GatewaySettings, GatewayConfigError> =>
    Layer.effect(GatewaySettings, decodeSettings(input))

  /**
   * The file named by STAGEBEAM_CONFIG and the STAGEBEAM_* variables, through Effect's ConfigProvider; the settings
   * in force are logged (redacted), and so is any STAGEBEAM_* variable that no setting reads.
   */
  static readonly layerFromEnvironment: Layer.Layer<GatewaySettings, GatewayConfigError> = Layer.effect(
    GatewaySettings,
    Effect.gen(function* () {
      const { input, origins } = yield* readEnvironment()
      const settings = yield* decodeSettings(input, origins)
      for (const warning of yield* unknownVariables) yield* Effect.logWarning(warning)
      yield* Effect.logInfo(`settings in force:\n${settingsYaml(settings)}`)
      return settings
    }),
  )
}
