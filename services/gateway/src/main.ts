import { NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Runtime } from "effect"
import { checkConfig } from "./config/CheckConfig.ts"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { GatewayLayer } from "./Gateway.ts"
import { tuneRuntime } from "./RuntimeTuning.ts"

/**
 * The production entry (the image's, Kubernetes'): the gateway over the servers its settings name, nothing
 * simulated; without a generator pool it stops at start naming what to set. `main.ts check-config [FILE]` checks
 * the settings (FILE, else STAGEBEAM_CONFIG, and the variables) without starting: exit 0 and the resolved settings
 * (redacted) on stdout, or exit 1 and every problem at its path.
 */

/** SIGTERM/SIGINT interrupt the gateway, which drains and stops: that is a clean exit (0), not 130. */
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

tuneRuntime()
const [command, file] = process.argv.slice(2)

const serve = GatewayLayer.pipe(
  Layer.provide(GatewaySettings.layerFromEnvironment),
  Layer.launch,
  Effect.tapErrorTag("GatewayConfigError", (error) => Effect.logError(error.message)),
)

const check = checkConfig(file).pipe(
  Effect.flatMap(({ yaml, warnings }) =>
    Effect.andThen(
      Effect.forEach(warnings, (warning) => Console.error(`warning: ${warning}`)),
      Console.log(yaml),
    ),
  ),
  Effect.tapErrorTag("GatewayConfigError", (error) => Console.error(error.message)),
)

NodeRuntime.runMain(command === "check-config" ? check : serve, {
  teardown,
  disableErrorReporting: command === "check-config",
})
