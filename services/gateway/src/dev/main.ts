import { NodeRuntime } from "@effect/platform-node"
import { Cause, Config, Effect, Exit, Layer, Runtime } from "effect"
import { decodeSettings } from "../config/Decode.ts"
import { readEnvironment, unknownVariables } from "../config/Environment.ts"
import { GatewaySettings } from "../config/GatewaySettings.ts"
import { settingsYaml } from "../config/Redact.ts"
import { GatewayLayer } from "../Gateway.ts"
import { tuneRuntime } from "../RuntimeTuning.ts"
import { DEFAULT_SIMULATOR, withSimulatedFleet } from "./SimulatedFleet.ts"

/**
 * The development entry (`npm start`): the settings as production reads them, and when they name no generator
 * servers, simulated ones started here (STAGEBEAM_SIM_SERVERS, STAGEBEAM_SIM_SPEED, STAGEBEAM_SIM_REWARD_SERVERS)
 * whose URLs become the generator pool's endpoints. The gateway itself cannot tell them from real servers.
 */
const simulatorOptions = Config.all({
  servers: Config.Int("STAGEBEAM_SIM_SERVERS").pipe(Config.withDefault(DEFAULT_SIMULATOR.servers)),
  speed: Config.Number("STAGEBEAM_SIM_SPEED").pipe(Config.withDefault(DEFAULT_SIMULATOR.speed)),
  rewardServers: Config.Int("STAGEBEAM_SIM_REWARD_SERVERS").pipe(Config.withDefault(DEFAULT_SIMULATOR.rewardServers)),
})

const developmentSettings = Layer.effect(
  GatewaySettings,
  Effect.gen(function* () {
    const { input, origins } = yield* readEnvironment()
    const options = yield* simulatorOptions.pipe(Effect.orDie)
    const fleet = yield* withSimulatedFleet(input, options)
    if (fleet.simulated > 0) {
      yield* Effect.logWarning(
        `SIMULATED: the generator pool is ${fleet.simulated} vllm-sim servers started by the development entry ` +
          "(set STAGEBEAM_ENDPOINTS for real servers; the production entry main.ts never simulates)",
      )
    }
    const settings = yield* decodeSettings(fleet.input, origins)
    for (const warning of yield* unknownVariables) yield* Effect.logWarning(warning)
    yield* Effect.logInfo(`settings in force:\n${settingsYaml(settings)}`)
    return settings
  }),
)

const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

tuneRuntime()
GatewayLayer.pipe(
  Layer.provide(developmentSettings),
  Layer.launch,
  Effect.tapErrorTag("GatewayConfigError", (error) => Effect.logError(error.message)),
  (main) => NodeRuntime.runMain(main, { teardown }),
)
