import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { serveGateway } from "./Gateway.ts"
import { GatewaySettings } from "./Settings.ts"

const main = Effect.gen(function* () {
  const gateway = yield* serveGateway
  const settings = yield* GatewaySettings
  yield* Effect.log(`stagebeam gateway listening on ${gateway.address} (gRPC stagebeam.v1.Reasoner)`)
  yield* Effect.log(`metrics on ${gateway.metricsUrl}`)
  yield* Effect.log(
    gateway.simulated
      ? `model: SIMULATED — ${gateway.generatorEndpoints.length} embedded vllm-sim servers (${settings.model}, speed ×${settings.simSpeed}): ${gateway.generatorEndpoints.join(", ")}`
      : `model: ${settings.model} on ${gateway.generatorEndpoints.join(", ")}`,
  )
  return yield* Effect.never
}).pipe(Effect.scoped, Effect.provide(GatewaySettings.layer))

NodeRuntime.runMain(main)
