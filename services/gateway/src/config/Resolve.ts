import { readFileSync, statSync } from "node:fs"
import type { StepKind } from "@stagebeam/cot"
import { type Discovery, dnsDiscovery, fileDiscovery, type PoolOptions, RETRY_BUDGET_MINIMUM } from "@stagebeam/fleet"
import type { ServerTls } from "@stagebeam/grpc"
import type { JudgeDeclaration } from "@stagebeam/judge"
import { Config, Duration, Effect, Redacted } from "effect"
import { GatewayConfigError } from "../GatewayErrors.ts"
import {
  DEFAULT_MODEL,
  type Discovery as DiscoverySettings,
  GENERATOR_POOL,
  judgesOf,
  poolsOf,
  REWARD_POOL,
  type Settings,
} from "./Settings.ts"
import type { SecretSource } from "./Values.ts"

/**
 * What the settings mean for the parts of the gateway: each pool's options (its own values, else `upstream`'s; its
 * model, else the generator's), its API key read from where the settings point, and the judges in force.
 */

export { GENERATOR_POOL, REWARD_POOL }

/** A pool's model: its own, else the generator pool's. */
export const modelOf = (settings: Settings, pool: string): string =>
  poolsOf(settings).find(([name]) => name === pool)?.[1].model ?? settings.pools[GENERATOR_POOL]?.model ?? DEFAULT_MODEL

export const maxSamplesPerRequestOf = (settings: Settings, pool: string): number =>
  settings.pools[pool]?.maxSamplesPerRequest ?? settings.upstream.maxSamplesPerRequest

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** What identifies a version of a file: a rotated secret (a new file swapped in, or rewritten) changes it. */
const stampOf = (path: string): string | undefined => {
  try {
    const stat = statSync(path)
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`
  } catch {
    return undefined
  }
}

const readKeyFile = (path: string): Redacted.Redacted<string> => {
  const key = readFileSync(path, "utf8").trim()
  if (key === "") throw new Error("it is empty")
  return Redacted.make(key)
}

/**
 * A key file, read at start (a file that cannot be read stops the gateway) and read again whenever it changes, so
 * a rotated key (a Kubernetes secret, a renewed token) is used from the next call on. While a new version cannot
 * be read (it is being written, or is empty) the last good key stays in use.
 */
const keyFile = (pool: string, path: string) =>
  Effect.gen(function* () {
    const first = yield* Effect.try({
      try: () => ({ key: readKeyFile(path), stamp: stampOf(path) }),
      catch: (error) =>
        new GatewayConfigError({ message: `pools.${pool}.apiKey: cannot read ${path} (${describeError(error)})` }),
    })
    let current = first
    return Effect.suspend(() => {
      const stamp = stampOf(path)
      if (stamp === undefined || stamp === current.stamp) return Effect.succeed(current.key)
      try {
        current = { key: readKeyFile(path), stamp }
        return Effect.as(Effect.log(`pools.${pool}.apiKey: ${path} changed; the new key is in use`), current.key)
      } catch (error) {
        return Effect.as(
          Effect.logWarning(
            `pools.${pool}.apiKey: ${path} changed but cannot be read (${describeError(error)}); keeping the last key`,
          ),
          current.key,
        )
      }
    })
  })

/**
 * The API key's source: the environment variable (read once: the environment does not change under a running
 * process) or the file, reloaded when it changes. Never from the settings. A file's read stats it, so the pool
 * keeps it off the call path (`apiKeyRefresh`).
 */
const apiKeyOf = (pool: string, source: SecretSource) =>
  "env" in source
    ? Effect.gen(function* () {
        return Effect.succeed<Redacted.Redacted<string> | undefined>(yield* Config.Redacted(source.env))
      }).pipe(
        Effect.mapError(
          () => new GatewayConfigError({ message: `pools.${pool}.apiKey: the variable ${source.env} is not set` }),
        ),
      )
    : keyFile(pool, source.file)

/**
 * How often a pool reads its key file again in the background: a rotated key is in use within it, or at once
 * where a server refuses the old one first (the pool reads the file then and retries the call once).
 */
const KEY_FILE_REFRESH = Duration.seconds(1)

/** The discovery a pool's settings (or the admission's peers) name, if any. */
export const discoveryOf = (source: DiscoverySettings | undefined): Discovery | undefined => {
  if (source === undefined) return undefined
  if (source.file !== undefined) return fileDiscovery({ path: source.file, interval: source.interval })
  const [name, port] = (source.dns ?? "").split(":")
  return dnsDiscovery({ name: name ?? "", port: Number(port), scheme: source.scheme, interval: source.interval })
}

/** The options of every declared pool. */
export const poolOptionsOf = (settings: Settings) =>
  Effect.forEach(poolsOf(settings), ([name, pool]) =>
    Effect.gen(function* () {
      const apiKey = pool.apiKey === undefined ? undefined : yield* apiKeyOf(name, pool.apiKey)
      const keyFile = pool.apiKey !== undefined && "file" in pool.apiKey
      const upstream = settings.upstream
      return {
        name,
        endpoints: pool.endpoints,
        model: modelOf(settings, name),
        apiKey,
        ...(keyFile && { apiKeyRefresh: KEY_FILE_REFRESH }),
        capabilities: pool.capabilities,
        requestTimeout: pool.timeout ?? upstream.timeout,
        maxAttempts: pool.attempts ?? upstream.attempts,
        failureThreshold: pool.failureThreshold ?? upstream.failureThreshold,
        cooldown: pool.cooldown ?? upstream.cooldown,
        healthInterval: pool.healthInterval ?? upstream.healthInterval,
        metricsInterval: pool.metricsInterval ?? upstream.metricsInterval,
        discovery: discoveryOf(pool.discovery),
        routing: {
          policy: pool.routing ?? upstream.routing,
          slowStartMs: Duration.toMillis(pool.slowStart ?? upstream.slowStart),
          affinityMaxImbalance:
            (pool.affinity ?? upstream.affinity)
              ? (pool.affinityMaxImbalance ?? upstream.affinityMaxImbalance)
              : undefined,
        },
        tryTimeoutFloor: pool.tryTimeoutFloor ?? upstream.tryTimeoutFloor,
        retryBudget: {
          ratio: pool.retryBudget ?? upstream.retryBudget,
          minimum: RETRY_BUDGET_MINIMUM,
          window: Duration.seconds(10),
        },
        hedge: (pool.hedgeJudgeCalls ?? upstream.hedgeJudgeCalls) ? ["judge"] : [],
      } satisfies PoolOptions
    }),
  )

export const judgeDeclarationsOf = (settings: Settings): ReadonlyArray<JudgeDeclaration> =>
  Object.entries(judgesOf(settings)).map(([name, judge]) => ({
    name,
    kind: judge.kind,
    pool: judge.pool,
    options: {
      ...(judge.verdicts === undefined ? {} : { verdicts: judge.verdicts }),
      // Keys were checked against the step kinds.
      ...(judge.images === undefined ? {} : { images: judge.images as Partial<Record<StepKind, boolean>> }),
      ...(judge.options === undefined ? {} : { custom: judge.options }),
    },
  }))

/** The TLS both doors serve (gRPC and HTTP): a certificate and key, and a client CA for mTLS; none without them. */
export const tlsOf = (settings: Settings): ServerTls | undefined =>
  settings.tls?.cert === undefined || settings.tls.key === undefined
    ? undefined
    : { certFile: settings.tls.cert, keyFile: settings.tls.key, clientCaFile: settings.tls.clientCa }
