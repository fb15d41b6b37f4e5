import { Clock, Duration, Effect, Metric, type Redacted, Ref, Schedule, type Scope } from "effect"
import { serverEjections, serverRecoveries } from "./FleetMetrics.ts"
import { OpenAiClient } from "./OpenAiClient.ts"

/** What the pool knows of one server's health. */
export interface ServerHealth {
  /** Last answer of GET /health (true until the first probe says otherwise). */
  readonly healthy: boolean
  readonly consecutiveFailures: number
  /** Clock millis until which the server is skipped after repeated failures (passive health). */
  readonly downUntil: number
}

export const initialHealth: ServerHealth = { healthy: true, consecutiveFailures: 0, downUntil: 0 }

export const isUp = (health: ServerHealth, now: number): boolean => health.healthy && now >= health.downUntil

/** A call succeeded: the server is back in rotation. */
export const recordSuccess = <H extends ServerHealth>(health: H): H => ({
  ...health,
  consecutiveFailures: 0,
  downUntil: 0,
})

/** A call failed: after `threshold` failures in a row the server sits out `cooldownMs`. */
export const recordFailure = <H extends ServerHealth>(
  health: H,
  now: number,
  threshold: number,
  cooldownMs: number,
): H => {
  const consecutiveFailures = health.consecutiveFailures + 1
  return {
    ...health,
    consecutiveFailures,
    downUntil: consecutiveFailures >= threshold ? now + cooldownMs : health.downUntil,
  }
}

type Transition = "ejected" | "unhealthy" | "recovered"

/** What a change of a server's health means for the rotation, if anything. */
export const transition = (before: ServerHealth, after: ServerHealth): Transition | undefined => {
  if (after.downUntil > before.downUntil) return "ejected"
  if (before.healthy && !after.healthy) return "unhealthy"
  const wasOut = !before.healthy || before.downUntil > 0
  return wasOut && after.healthy && after.downUntil === 0 ? "recovered" : undefined
}

export interface MembershipOptions {
  /** The pool's name, for logs and metrics. */
  readonly pool: string
  readonly servers: ReadonlyArray<string>
  /** The pool's key: a server without /health is probed on /v1/models, which may want it. */
  readonly apiKey: Effect.Effect<Redacted.Redacted<string> | undefined>
  readonly healthInterval: Duration.Duration
  /** Consecutive failures that take a server out of rotation for `cooldown`. */
  readonly failureThreshold: number
  readonly cooldown: Duration.Duration
}

export interface Membership {
  readonly servers: ReadonlyArray<string>
  readonly health: Effect.Effect<ReadonlyMap<string, ServerHealth>>
  readonly succeeded: (server: string) => Effect.Effect<void>
  readonly failed: (server: string) => Effect.Effect<void>
  /** How many servers are up now. */
  readonly upCount: Effect.Effect<number>
}

const HEALTH_PROBE_TIMEOUT = Duration.seconds(2)

/**
 * The servers of a pool and which of them are up: active /health probes on an interval (they stop with the scope),
 * and passive ejection of a server whose calls keep failing.
 */
export const makeMembership = Effect.fnUntraced(function* (
  options: MembershipOptions,
): Effect.fn.Return<Membership, never, OpenAiClient | Scope.Scope> {
  const client = yield* OpenAiClient
  const state = yield* Ref.make<ReadonlyMap<string, ServerHealth>>(
    new Map(options.servers.map((server) => [server, initialHealth])),
  )
  const cooldownMs = Duration.toMillis(options.cooldown)
  const at = (server: string) => ({ pool: options.pool, server })
  /** Logs (and counts) a server leaving or rejoining the rotation. */
  const report = (server: string, change: Transition | undefined) => {
    switch (change) {
      case "ejected":
        return Effect.andThen(
          Effect.logWarning("server taken out of rotation after repeated failures").pipe(
            Effect.annotateLogs({ ...at(server), cooldown: Duration.format(options.cooldown) }),
          ),
          Metric.update(Metric.withAttributes(serverEjections, at(server)), 1),
        )
      case "unhealthy":
        return Effect.logWarning("server unhealthy (/health)").pipe(Effect.annotateLogs(at(server)))
      case "recovered":
        return Effect.andThen(
          Effect.logInfo("server back in rotation").pipe(Effect.annotateLogs(at(server))),
          Metric.update(Metric.withAttributes(serverRecoveries, at(server)), 1),
        )
      case undefined:
        return Effect.void
    }
  }
  const update = (server: string, f: (health: ServerHealth) => ServerHealth) =>
    Effect.flatMap(
      Ref.modify(state, (all) => {
        const before = all.get(server) ?? initialHealth
        const after = f(before)
        return [transition(before, after), new Map(all).set(server, after)]
      }),
      (change) => report(server, change),
    )

  const probe = (server: string) =>
    Effect.flatMap(options.apiKey, (apiKey) =>
      client.health({ pool: options.pool, server, apiKey }, HEALTH_PROBE_TIMEOUT),
    ).pipe(Effect.flatMap((healthy) => update(server, (health) => ({ ...health, healthy }))))
  yield* Effect.forEach(options.servers, probe, { concurrency: "unbounded", discard: true }).pipe(
    Effect.repeat(Schedule.spaced(options.healthInterval)),
    Effect.forkScoped,
  )

  return {
    servers: options.servers,
    health: Ref.get(state),
    succeeded: (server) => update(server, recordSuccess),
    failed: (server) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        update(server, (health) => recordFailure(health, now, options.failureThreshold, cooldownMs)),
      ),
    upCount: Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      return [...(yield* Ref.get(state)).values()].filter((health) => isUp(health, now)).length
    }),
  }
})
