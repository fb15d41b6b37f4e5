import { readFileSync } from "node:fs"
import type { PoolOptions } from "@stagebeam/fleet"
import type { JudgeDeclaration } from "@stagebeam/judge"
import { Config, Effect, Redacted } from "effect"
import { GatewayConfigError } from "../GatewayErrors.ts"
import { DEFAULT_MODEL, GENERATOR_POOL, judgesOf, poolsOf, type Settings } from "./Settings.ts"
import type { SecretSource } from "./Values.ts"

/**
 * What the settings mean for the parts of the gateway: each pool's options (its own values, else `upstream`'s; its
 * model, else the generator's), its API key read from where the settings point, and the judges in force.
 */

export { GENERATOR_POOL }

export const modelOf = (settings: Settings, pool: string): string =>
  settings.pools[pool]?.model ?? settings.pools[GENERATOR_POOL]?.model ?? DEFAULT_MODEL

export const maxSamplesPerRequestOf = (settings: Settings, pool: string): number =>
  settings.pools[pool]?.maxSamplesPerRequest ?? settings.upstream.maxSamplesPerRequest

/** An API key from the environment variable or the file the settings name (never from the settings themselves). */
const readSecret = (pool: string, source: SecretSource) =>
  "env" in source
    ? Effect.gen(function* () {
        return yield* Config.Redacted(source.env)
      }).pipe(
        Effect.mapError(
          () => new GatewayConfigError({ message: `pools.${pool}.apiKey: the variable ${source.env} is not set` }),
        ),
      )
    : Effect.try({
        try: () => Redacted.make(readFileSync(source.file, "utf8").trim()),
        catch: (error) =>
          new GatewayConfigError({
            message: `pools.${pool}.apiKey: cannot read ${source.file} (${error instanceof Error ? error.message : String(error)})`,
          }),
      })

/** The options of every declared pool; the generator's servers are `generatorEndpoints` (the embedded fleet's). */
export const poolOptionsOf = (settings: Settings, generatorEndpoints: ReadonlyArray<string>) =>
  Effect.forEach(poolsOf(settings), ([name, pool]) =>
    Effect.gen(function* () {
      const apiKey = pool.apiKey === undefined ? undefined : yield* readSecret(name, pool.apiKey)
      const upstream = settings.upstream
      return {
        name,
        endpoints: name === GENERATOR_POOL ? generatorEndpoints : pool.endpoints,
        model: modelOf(settings, name),
        apiKey,
        requestTimeout: pool.timeout ?? upstream.timeout,
        maxAttempts: pool.attempts ?? upstream.attempts,
        failureThreshold: pool.failureThreshold ?? upstream.failureThreshold,
        cooldown: pool.cooldown ?? upstream.cooldown,
        healthInterval: pool.healthInterval ?? upstream.healthInterval,
        metricsInterval: pool.metricsInterval ?? upstream.metricsInterval,
      } satisfies PoolOptions
    }),
  )

export const judgeDeclarationsOf = (settings: Settings): ReadonlyArray<JudgeDeclaration> =>
  Object.entries(judgesOf(settings)).map(([name, judge]) => ({ name, ...judge }))
