import { Context, Effect, Layer } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { GENERATOR_POOL, modelOf, REWARD_POOL } from "./config/Resolve.ts"
import { embeddedRewardPool } from "./config/Settings.ts"
import { GatewayConfigError } from "./GatewayErrors.ts"

/**
 * Simulated vLLM servers in this process, standing in for the generator pool when it lists no endpoints (`npm
 * start`, demos, tests), and `simulator.rewardServers` simulated reward-model servers (vLLM's /pooling) standing in
 * for the `reward` pool when none is declared, so every judge kind runs with no setup. With `simulator.servers: 0`
 * (the container image) the gateway refuses to start without endpoints instead. The simulator is loaded only when it
 * is used.
 */
export class EmbeddedFleet extends Context.Service<
  EmbeddedFleet,
  {
    /** Base URLs of the simulated servers; empty when the generator pool has real endpoints. */
    readonly urls: ReadonlyArray<string>
    /** Base URLs of the simulated reward servers (the `reward` pool); empty when not embedded. */
    readonly rewardUrls: ReadonlyArray<string>
  }
>()("@stagebeam/gateway/EmbeddedFleet") {
  static readonly layer = Layer.effect(
    EmbeddedFleet,
    Effect.gen(function* () {
      const settings = yield* GatewaySettings
      const generator = settings.pools[GENERATOR_POOL]
      if ((generator?.endpoints.length ?? 0) > 0 || generator?.discovery !== undefined) {
        return EmbeddedFleet.of({ urls: [], rewardUrls: [] })
      }
      if (settings.simulator.servers === 0) {
        return yield* new GatewayConfigError({
          message:
            "no GPU servers configured: set STAGEBEAM_ENDPOINTS or STAGEBEAM_DISCOVERY_DNS (or pools.generator in the " +
            "STAGEBEAM_CONFIG file); this build does not start the embedded simulated fleet (simulator.servers is 0)",
        })
      }
      const { serveSimulator } = yield* Effect.promise(() => import("@stagebeam/vllm-sim"))
      const servers = yield* Effect.forEach(
        Array.from({ length: settings.simulator.servers }, (_, i) => i),
        (i) =>
          serveSimulator({
            port: 0,
            host: "127.0.0.1",
            speed: settings.simulator.speed,
            model: modelOf(settings, GENERATOR_POOL),
            seed: i + 1,
            // As deploy/ runs vLLM: a running search's calls go first (the gateway probes it and sends priorities).
            schedulingPolicy: "priority",
          }).pipe(Effect.orDie),
        { concurrency: "unbounded" },
      )
      const rewardServers = embeddedRewardPool(settings)
        ? yield* Effect.forEach(
            Array.from({ length: settings.simulator.rewardServers }, (_, i) => i),
            (i) =>
              serveSimulator({
                port: 0,
                host: "127.0.0.1",
                speed: settings.simulator.speed,
                model: modelOf(settings, REWARD_POOL),
                task: "reward",
                seed: 1000 + i,
              }).pipe(Effect.orDie),
            { concurrency: "unbounded" },
          )
        : []
      return EmbeddedFleet.of({
        urls: servers.map((server) => server.url),
        rewardUrls: rewardServers.map((server) => server.url),
      })
    }),
  )
}
