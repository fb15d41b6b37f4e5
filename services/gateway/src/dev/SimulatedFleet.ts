import { serveSimulator } from "@stagebeam/vllm-sim"
import { Effect, Predicate, type Scope } from "effect"
import { mergeInput } from "../config/Merge.ts"
import { DEFAULT_MODEL, GENERATOR_POOL, REWARD_POOL, type SettingsInput } from "../config/Settings.ts"

/**
 * Development and tests only (`npm start`, the test harness): simulated vLLM servers in this process, handed to the
 * gateway as ordinary settings (the generator pool's endpoints, and a `reward` pool of simulated reward-model
 * servers when none is declared). The production entry (main.ts) never imports this module.
 */
export interface SimulatorOptions {
  /** Simulated generator servers; 0 starts none (the settings must then name servers). */
  readonly servers: number
  /** The simulator's speed-up over an H100. */
  readonly speed: number
  /** Simulated reward-model servers for a `reward` pool (none when the settings declare one). */
  readonly rewardServers: number
}

export const DEFAULT_SIMULATOR: SimulatorOptions = { servers: 2, speed: 10, rewardServers: 1 }

/** The model the simulated reward servers serve (SWIRES's reward model; a stand-in, as the whole fleet is). */
export const SIMULATED_REWARD_MODEL = "internlm/internlm-xcomposer2d5-7b-reward"

const hasServers = (pool: unknown): boolean =>
  Predicate.isObject(pool) &&
  (pool.discovery !== undefined ||
    (Array.isArray(pool.endpoints) && pool.endpoints.length > 0) ||
    (typeof pool.endpoints === "string" && pool.endpoints.trim() !== ""))

/** The input with simulated servers as its generator pool, unless it names servers; they live for the scope. */
export const withSimulatedFleet = (
  input: SettingsInput,
  options: SimulatorOptions,
): Effect.Effect<{ readonly input: SettingsInput; readonly simulated: number }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const pools = (input.pools ?? {}) as Readonly<Record<string, unknown>>
    if (hasServers(pools[GENERATOR_POOL]) || options.servers === 0) return { input, simulated: 0 }
    const generator = pools[GENERATOR_POOL]
    const model = Predicate.isObject(generator) && typeof generator.model === "string" ? generator.model : DEFAULT_MODEL
    const start = (count: number, first: number, extra: Partial<Parameters<typeof serveSimulator>[0]>) =>
      Effect.forEach(
        Array.from({ length: count }, (_, i) => i),
        (i) =>
          serveSimulator({ port: 0, host: "127.0.0.1", speed: options.speed, model, seed: first + i, ...extra }).pipe(
            Effect.orDie,
          ),
        { concurrency: "unbounded" },
      )
    // As deploy/ runs vLLM: a running search's calls go first (the gateway probes it and sends priorities).
    const servers = yield* start(options.servers, 1, { schedulingPolicy: "priority" })
    const rewards =
      REWARD_POOL in pools || options.rewardServers === 0
        ? []
        : yield* start(options.rewardServers, 1000, { task: "reward", model: SIMULATED_REWARD_MODEL })
    const simulatedPools: SettingsInput["pools"] = {
      [GENERATOR_POOL]: { endpoints: servers.map((server) => server.url) },
      ...(rewards.length === 0
        ? {}
        : {
            [REWARD_POOL]: {
              endpoints: rewards.map((server) => server.url),
              model: SIMULATED_REWARD_MODEL,
              capabilities: { pooling: true, constrainedChoice: "none" },
            },
          }),
    }
    return { input: mergeInput<SettingsInput>(input, { pools: simulatedPools }), simulated: servers.length }
  })
