import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { GatewayLayer } from "./Gateway.ts"

GatewayLayer.pipe(
  Layer.provide(GatewaySettings.layerFromEnvironment),
  Layer.launch,
  Effect.tapErrorTag("GatewayConfigError", (error) => Effect.logError(error.message)),
  NodeRuntime.runMain,
)
