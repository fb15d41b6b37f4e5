import { Fleet, isUp, type Pool } from "@stagebeam/fleet"
import { Clock, Context, Duration, Effect, Layer, Metric, Ref, Schedule, type Stream, SubscriptionRef } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { GENERATOR_POOL } from "./config/Resolve.ts"
import { judgesOf, type Settings } from "./config/Settings.ts"
import { endpointsUp, healthServing, poolServers } from "./GatewayMetrics.ts"

/** One pool's servers by state, and whether any can answer a call. */
export interface PoolHealth {
  readonly usable: boolean
  /** Why it cannot answer, when it cannot. */
  readonly reason?: string
  readonly servers: {
    readonly up: number
    readonly down: number
    readonly keyRefused: number
    readonly modelMissing: number
  }
  /** NOT_SERVING follows this pool (it runs every call, or judges those that name no judge). */
  readonly required: boolean
}

export interface HealthReport {
  readonly status: "SERVING" | "NOT_SERVING"
  readonly pools: Readonly<Record<string, PoolHealth>>
  /** The unusable pools that do not stop the service: calls that need them fail, others run (degraded). */
  readonly degraded: ReadonlyArray<string>
}

/** Never slower than this, so a pool's change shows within about one of its probe intervals. */
const MOST_INTERVAL = Duration.seconds(1)

/** The pools every call needs: the generator's, and the pool of the judge a request gets when it names none. */
export const requiredPools = (settings: Settings): ReadonlySet<string> => {
  const judge = judgesOf(settings)[settings.defaultJudge]
  return new Set([GENERATOR_POOL, ...(judge === undefined ? [] : [judge.pool])])
}

const poolHealth = (pool: Pool, required: boolean) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const statuses = yield* pool.statuses
    const counts = { up: 0, down: 0, keyRefused: 0, modelMissing: 0 }
    for (const server of yield* pool.snapshot) {
      const status = statuses.get(server.url)?._tag
      if (!isUp(server, now)) counts.down++
      else if (status === "KeyRefused") counts.keyRefused++
      else if (status === "ModelMissing") counts.modelMissing++
      else counts.up++
    }
    const total = counts.up + counts.down + counts.keyRefused + counts.modelMissing
    const reason =
      counts.up > 0
        ? undefined
        : total === 0
          ? "it has no servers (discovery found none)"
          : counts.keyRefused > 0
            ? `${counts.keyRefused} of ${total} servers refuse its API key, the others are down or serve another model`
            : counts.modelMissing > 0
              ? `${counts.modelMissing} of ${total} servers do not serve ${pool.model}, the others are down`
              : `all ${total} servers are down`
    return {
      usable: counts.up > 0,
      ...(reason === undefined ? {} : { reason }),
      servers: counts,
      required,
    } satisfies PoolHealth
  })

/**
 * Whether the gateway can answer, pool by pool: a pool is usable while one of its servers is up and takes its key
 * (and serves its model). The service is NOT_SERVING while a required pool is not (the generator's, and the default
 * judge's); another pool's outage is a degraded state: calls that name its judge fail, the rest run. Each pool's
 * change is logged with its reason; gauges carry every pool's servers by state and the service's status.
 */
export class Health extends Context.Service<
  Health,
  {
    readonly report: Effect.Effect<HealthReport>
    /** The service's status now, then each change of it: what readiness pushes to gRPC health, without polling. */
    readonly statusChanges: Stream.Stream<HealthReport["status"]>
  }
>()("@stagebeam/gateway/Health") {
  static readonly layer = Layer.effect(
    Health,
    Effect.gen(function* () {
      const settings = yield* GatewaySettings
      const fleet = yield* Fleet
      const required = requiredPools(settings)
      const assess = Effect.gen(function* () {
        const pools: Record<string, PoolHealth> = {}
        for (const pool of fleet.pools.values()) pools[pool.name] = yield* poolHealth(pool, required.has(pool.name))
        const unusable = Object.entries(pools).filter(([, pool]) => !pool.usable)
        return {
          status: unusable.some(([, pool]) => pool.required) ? "NOT_SERVING" : "SERVING",
          pools,
          degraded: unusable.filter(([, pool]) => !pool.required).map(([name]) => name),
        } satisfies HealthReport
      })
      const current = yield* Ref.make(yield* assess)

      const record = (previous: HealthReport, next: HealthReport) =>
        Effect.gen(function* () {
          for (const [name, pool] of Object.entries(next.pools)) {
            for (const [state, count] of Object.entries(pool.servers)) {
              yield* Metric.update(Metric.withAttributes(poolServers, { pool: name, state }), count)
            }
            yield* Metric.update(Metric.withAttributes(endpointsUp, { pool: name }), pool.servers.up)
            const before = previous.pools[name]
            if (before?.usable === pool.usable && before.reason === pool.reason) continue
            yield* pool.usable
              ? Effect.logInfo(`pool ${name} can answer again`)
              : (pool.required ? Effect.logError : Effect.logWarning)(
                  `pool ${name} cannot answer: ${pool.reason}; ${pool.required ? "health is NOT_SERVING" : "calls that need it fail (degraded)"}`,
                )
          }
          yield* Metric.update(healthServing, next.status === "SERVING" ? 1 : 0)
        })

      const intervals = [...fleet.pools.values()].map((pool) => pool.name)
      const interval = intervals
        .map((name) => settings.pools[name]?.healthInterval ?? settings.upstream.healthInterval)
        .reduce((least, each) => Duration.min(least, each), MOST_INTERVAL)
      yield* record({ status: "SERVING", pools: {}, degraded: [] }, yield* Ref.get(current))
      const status = yield* SubscriptionRef.make((yield* Ref.get(current)).status)
      yield* Effect.gen(function* () {
        const next = yield* assess
        const previous = yield* Ref.get(current)
        yield* record(previous, next)
        yield* Ref.set(current, next)
        if (next.status !== previous.status) yield* SubscriptionRef.set(status, next.status)
      }).pipe(Effect.repeat(Schedule.spaced(interval)), Effect.forkScoped)
      return Health.of({ report: Ref.get(current), statusChanges: SubscriptionRef.changes(status) })
    }),
  )
}
