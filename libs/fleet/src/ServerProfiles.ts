import { type Duration, Effect, type Redacted, Ref, Schedule, type Scope } from "effect"
import { describeCapabilities } from "./Capabilities.ts"
import { ModelNotServed } from "./FleetError.ts"
import type { Membership } from "./Membership.ts"
import { OpenAiClient } from "./OpenAiClient.ts"
import { describeServer, type ProbeOutcome, probeServer, type ServerProfile } from "./Probe.ts"

/** What the pool knows of one server beyond its health: unprobed, or what its last probe showed. */
export type ServerStatus = { readonly _tag: "Unprobed" } | ProbeOutcome

export interface ServerProfiles {
  readonly statuses: Effect.Effect<ReadonlyMap<string, ServerStatus>>
  /**
   * `statuses` as a plain read, for a pick's view of the pool. Each change makes a new map: a reader may keep what it
   * read, and tell a change by the map's identity (the pool's capabilities are computed again only then).
   */
  readonly statusesUnsafe: () => ReadonlyMap<string, ServerStatus>
  readonly profiles: Effect.Effect<ReadonlyArray<ServerProfile>>
  /** Probes every server now (at start); fails when one does not serve the pool's model. */
  readonly probeAll: Effect.Effect<void, ModelNotServed>
}

export interface ServerProfilesOptions {
  readonly pool: string
  readonly model: string
  readonly apiKey: Effect.Effect<Redacted.Redacted<string> | undefined>
  readonly membership: Membership
  readonly interval: Duration.Duration
}

const modelNotServed = (options: ServerProfilesOptions, server: string, offered: ReadonlyArray<string>) =>
  new ModelNotServed({
    pool: options.pool,
    server,
    model: options.model,
    offered,
    message: `${server} of the ${options.pool} pool does not serve "${options.model}"; it offers: ${offered.join(", ") || "nothing"}`,
  })

/**
 * Each server's profile (what it is, what it can do), probed when it joins: at start, and whenever a server that
 * was down or unprobed is healthy again (a restart may bring another version). A server that serves another model
 * is reported and kept out of rotation; one that refuses the pool's key stays in, so calls say so.
 */
export const makeServerProfiles = Effect.fnUntraced(function* (
  options: ServerProfilesOptions,
): Effect.fn.Return<ServerProfiles, never, OpenAiClient | Scope.Scope> {
  const client = yield* OpenAiClient
  const state = yield* Ref.make<ReadonlyMap<string, ServerStatus>>(new Map())
  const set = (server: string, status: ServerStatus) => Ref.update(state, (all) => new Map(all).set(server, status))

  const report = (server: string, outcome: ProbeOutcome) => {
    const at = `pool ${options.pool}: ${server}`
    switch (outcome._tag) {
      case "Profiled": {
        const ignored = outcome.profile.capabilities.ignoredFields ?? []
        return Effect.log(
          `${at} is ${describeServer(outcome.profile)} serving ${options.model} (${describeCapabilities(outcome.profile.capabilities)})`,
        ).pipe(
          // Said once per change, naming the field: a server that answers 200 and ignores it fails silently.
          Effect.andThen(
            ignored.length === 0
              ? Effect.void
              : Effect.logWarning(
                  `${at} accepts and ignores ${ignored.join(" and ")} (HTTP 200, output unconstrained); the pool uses choice field ${outcome.profile.capabilities.constrainedChoice}`,
                ),
          ),
        )
      }
      case "Unreachable":
        return Effect.log(`${at} did not answer; it is probed again when it joins`)
      case "KeyRefused":
        return Effect.logError(
          `${at} refused the pool's API key (${outcome.status}); calls to it will fail until the key is right`,
        )
      case "ModelMissing":
        return Effect.logError(modelNotServed(options, server, outcome.offered).message)
    }
  }

  const probe = (server: string) =>
    Effect.gen(function* () {
      const apiKey = yield* options.apiKey
      const outcome = yield* probeServer({ pool: options.pool, server, model: options.model, apiKey }).pipe(
        Effect.provideService(OpenAiClient, client),
      )
      const before = (yield* Ref.get(state)).get(server)
      yield* set(server, outcome)
      // Said once per change: a server that keeps refusing the key is not logged every interval.
      if (before?._tag !== outcome._tag) yield* report(server, outcome)
      return outcome
    })

  // Re-probe servers that joined since (healthy, but unprobed or last seen down or refusing the key); forget the
  // profile of a server that went down, so its next start is probed afresh.
  const refresh = Effect.gen(function* () {
    const health = yield* options.membership.members
    const statuses = yield* Ref.get(state)
    yield* Effect.forEach(
      [...health.keys()],
      (server) => {
        const healthy = health.get(server)?.healthy ?? false
        const status = statuses.get(server)?._tag ?? "Unprobed"
        if (!healthy)
          return status === "Profiled" || status === "ModelMissing" ? set(server, { _tag: "Unprobed" }) : Effect.void
        return status === "Profiled" || status === "ModelMissing" ? Effect.void : Effect.asVoid(probe(server))
      },
      { concurrency: "unbounded", discard: true },
    )
  })
  yield* refresh.pipe(
    Effect.delay(options.interval),
    Effect.repeat(Schedule.spaced(options.interval)),
    Effect.forkScoped,
  )

  return {
    statuses: Ref.get(state),
    statusesUnsafe: () => Ref.getUnsafe(state),
    profiles: Effect.map(Ref.get(state), (all) =>
      [...all.values()].flatMap((status) => (status._tag === "Profiled" ? [status.profile] : [])),
    ),
    probeAll: Effect.gen(function* () {
      const outcomes = yield* Effect.forEach(
        yield* options.membership.servers,
        (server) => Effect.map(probe(server), (o) => [server, o] as const),
        {
          concurrency: "unbounded",
        },
      )
      for (const [server, outcome] of outcomes) {
        if (outcome._tag === "ModelMissing") return yield* modelNotServed(options, server, outcome.offered)
      }
    }),
  }
})
