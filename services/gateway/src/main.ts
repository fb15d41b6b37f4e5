import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Exit, Layer, Runtime } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { GatewayLayer } from "./Gateway.ts"

/** SIGTERM/SIGINT interrupt the gateway, which drains and stops: that is a clean exit (0), not 130. */
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

GatewayLayer.pipe(
  Layer.provide(GatewaySettings.layerFromEnvironment),
  Layer.launch,
  Effect.tapErrorTag("GatewayConfigError", (error) => Effect.logError(error.message)),
  (main) => NodeRuntime.runMain(main, { teardown }),
)
