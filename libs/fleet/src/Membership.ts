import { Clock, Duration, Effect, Metric, type Redacted, Ref, Schedule, type Scope } from "effect"
import type { Discovery } from "./Discovery.ts"
import { membershipChanges, serverEjections, serverRecoveries } from "./FleetMetrics.ts"
import { OpenAiClient } from "./OpenAiClient.ts"

/** What the pool knows of one server's health. */
export interface ServerHealth {
  /** Last answer of GET /health (true until the first probe says otherwise). */
  readonly healthy: boolean
  readonly consecutiveFailures: number
  /** Clock millis until which the server is skipped after repeated failures (passive health). */
  readonly downUntil: number
  /** What the last of the failures in a row was (e.g. "timeout: no answer within 30s"), to say why it is out. */
  readonly lastFailure?: string | undefined
}

export const initialHealth: ServerHealth = { healthy: true, consecutiveFailures: 0, downUntil: 0 }

export const isUp = (health: ServerHealth, now: number): boolean => health.healthy && now >= health.downUntil

/** A call succeeded: the server is back in rotation. */
export const recordSuccess = <H extends ServerHealth>(health: H): H => ({
  ...health,
  consecutiveFailures: 0,
  downUntil: 0,
  lastFailure: undefined,
})

/** A call failed: after `threshold` failures in a row the server sits out `cooldownMs`. */
export const recordFailure = <H extends ServerHealth>(
  health: H,
  now: number,
  threshold: number,
  cooldownMs: number,
  reason?: string,
): H => {
  const consecutiveFailures = health.consecutiveFailures + 1
  return {
    ...health,
    consecutiveFailures,
    lastFailure: reason,
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
  /** The servers the pool starts with. */
  readonly servers: ReadonlyArray<string>
  /** Where to look for servers again, if they can change (DNS, a file); without it the list stays as given. */
  readonly discovery?: Discovery | undefined
  /** Calls this pool has in flight on a server: a server that left is forgotten once it has none. */
  readonly inFlightOn: (server: string) => Effect.Effect<number>
  /** The pool's key: a server without /health is probed on /v1/models, which may want it. */
  readonly apiKey: Effect.Effect<Redacted.Redacted<string> | undefined>
  readonly healthInterval: Duration.Duration
  /** Consecutive failures that take a server out of rotation for `cooldown`. */
  readonly failureThreshold: number
  readonly cooldown: Duration.Duration
}

/** A member of the pool: its health, when it joined, and whether it is leaving. */
export interface Member extends ServerHealth {
  /** Clock millis when it joined while the pool ran (its slow start counts from there); 0 for a starting member. */
  readonly joinedAtMs: number
  /** No longer discovered: it takes no new calls and is forgotten once its calls in flight are done. */
  readonly leaving: boolean
}

export interface Membership {
  /** The current members, leaving ones included (they still finish their calls). */
  readonly members: Effect.Effect<ReadonlyMap<string, Member>>
  /** `members` as a plain read, for a pick's view of the pool (one Effect step for all of it, issue #24). */
  readonly membersUnsafe: () => ReadonlyMap<string, Member>
  readonly servers: Effect.Effect<ReadonlyArray<string>>
  readonly succeeded: (server: string) => Effect.Effect<void>
  /** `succeeded` as a plain check: undefined when nothing changes (a server in good standing), else the change. */
  readonly succeededUnsafe: (server: string) => Effect.Effect<void> | undefined
  /** A call on the server failed, for `reason` (told when the pool has no server left to try). */
  readonly failed: (server: string, reason?: string) => Effect.Effect<void>
  /** How many members are up now (leaving ones not counted). */
  readonly upCount: Effect.Effect<number>
}

const HEALTH_PROBE_TIMEOUT = Duration.seconds(2)

const member = (joinedAtMs: number): Member => ({ ...initialHealth, joinedAtMs, leaving: false })

/**
 * The servers of a pool and which of them are up: the members come from a static list or a discovery source read
 * again on its interval (a server that appears joins with a slow start; one that disappears drains: no new calls,
 * its calls in flight finish), active /health probes on an interval, and passive ejection of a server whose calls
 * keep failing. Every join, leave, ejection and recovery is logged and counted. The loops stop with the scope.
 */
export const makeMembership = Effect.fnUntraced(function* (
  options: MembershipOptions,
): Effect.fn.Return<Membership, never, OpenAiClient | Scope.Scope> {
  const client = yield* OpenAiClient
  const state = yield* Ref.make<ReadonlyMap<string, Member>>(
    new Map(options.servers.map((server) => [server, member(0)])),
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
  const update = (server: string, f: (health: Member) => Member) =>
    Effect.flatMap(
      Ref.modify(state, (all) => {
        const before = all.get(server)
        if (before === undefined) return [undefined, all]
        const after = f(before)
        return [transition(before, after), new Map(all).set(server, after)]
      }),
      (change) => report(server, change),
    )

  const probe = (server: string) =>
    Effect.flatMap(options.apiKey, (apiKey) =>
      client.health({ pool: options.pool, server, apiKey }, HEALTH_PROBE_TIMEOUT),
    ).pipe(Effect.flatMap((healthy) => update(server, (health) => ({ ...health, healthy }))))
  const servers = Effect.map(Ref.get(state), (all) => [...all.keys()])
  yield* Effect.flatMap(servers, (current) =>
    Effect.forEach(current, probe, { concurrency: "unbounded", discard: true }),
  ).pipe(Effect.repeat(Schedule.spaced(options.healthInterval)), Effect.forkScoped)

  const changed = (server: string, change: "join" | "leave" | "gone") =>
    Effect.andThen(
      Effect.logInfo(
        change === "join"
          ? "server joined the pool"
          : change === "leave"
            ? "server left the pool: draining its calls"
            : "server drained and forgotten",
      ).pipe(Effect.annotateLogs(at(server))),
      Metric.update(Metric.withAttributes(membershipChanges, { ...at(server), change }), 1),
    )

  /** Joins what discovery found anew, marks what it no longer finds as leaving, forgets drained leavers. */
  const reconcile = (found: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const wanted = new Set(found)
      const current = yield* Ref.get(state)
      const joins = found.filter((server) => !current.has(server) || current.get(server)?.leaving === true)
      const leaves = [...current].filter(([server, m]) => !wanted.has(server) && !m.leaving).map(([server]) => server)
      const drained: Array<string> = []
      for (const [server, m] of current) {
        if (
          (m.leaving || leaves.includes(server)) &&
          !wanted.has(server) &&
          (yield* options.inFlightOn(server)) === 0
        ) {
          drained.push(server)
        }
      }
      yield* Ref.update(state, (all) => {
        const next = new Map(all)
        for (const server of joins)
          next.set(server, next.get(server)?.leaving ? { ...next.get(server)!, leaving: false } : member(now))
        for (const server of leaves) next.set(server, { ...next.get(server)!, leaving: true })
        for (const server of drained) next.delete(server)
        return next
      })
      yield* Effect.forEach(joins, (server) => changed(server, "join"), { discard: true })
      yield* Effect.forEach(leaves, (server) => changed(server, "leave"), { discard: true })
      yield* Effect.forEach(drained, (server) => changed(server, "gone"), { discard: true })
      // A new member is probed now rather than at the next health interval.
      yield* Effect.forEach(joins, probe, { concurrency: "unbounded", discard: true })
    })

  const discovery = options.discovery
  if (discovery !== undefined) {
    const look = discovery.find.pipe(
      Effect.flatMap(reconcile),
      Effect.catchTag("DiscoveryFailed", (failure) =>
        Effect.logWarning("server discovery failed; keeping the servers known").pipe(
          Effect.annotateLogs({ pool: options.pool, source: discovery.describe, error: failure.message }),
        ),
      ),
    )
    // The first look is part of starting the pool: its first call finds the servers discovered.
    yield* look
    yield* look.pipe(Effect.delay(discovery.interval), Effect.forever, Effect.forkScoped)
  }

  // Most calls succeed on a server in good standing: nothing changes, and no new map is made.
  const succeededUnsafe = (server: string) => {
    const member = Ref.getUnsafe(state).get(server)
    return member !== undefined &&
      member.consecutiveFailures === 0 &&
      member.downUntil === 0 &&
      member.lastFailure === undefined
      ? undefined
      : update(server, recordSuccess)
  }

  return {
    members: Ref.get(state),
    membersUnsafe: () => Ref.getUnsafe(state),
    servers,
    succeeded: (server) => Effect.suspend(() => succeededUnsafe(server) ?? Effect.void),
    succeededUnsafe,
    failed: (server, reason) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        update(server, (health) => recordFailure(health, now, options.failureThreshold, cooldownMs, reason)),
      ),
    upCount: Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      return [...(yield* Ref.get(state)).values()].filter((m) => !m.leaving && isUp(m, now)).length
    }),
  }
})
