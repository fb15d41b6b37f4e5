import { Clock, Duration, Effect, type Fiber, type Redacted, type Scope } from "effect"
import type { CallTimes } from "./CallTimes.ts"
import { type Capabilities, type DeclaredCapabilities, poolCapabilities } from "./Capabilities.ts"
import type { Discovery } from "./Discovery.ts"
import { type InFlight, makeInFlight } from "./InFlight.ts"
import { type LoadReport, type LoadReports, makeLoadReports } from "./LoadReports.ts"
import { type Membership, makeMembership } from "./Membership.ts"
import type { OpenAiClient } from "./OpenAiClient.ts"
import type { ServerProfile } from "./Probe.ts"
import type { EndpointState } from "./Router.ts"
import { viewOf } from "./Router.ts"
import type { EndpointView } from "./Routing.ts"
import { makeServerProfiles, type ServerProfiles, type ServerStatus } from "./ServerProfiles.ts"

// A floor that keeps polling cheap whatever the calls' length: at 50 ms, one-token verdicts kept a 4-server pool at
// 36–73 scrapes/s (issue #24); reports stay fresh for 2 s, and routing counts its own calls between them.
const MIN_REPORT_INTERVAL_MS = 500

export interface PoolViewOptions {
  readonly pool: string
  readonly model: string
  readonly endpoints: ReadonlyArray<string>
  readonly discovery: Discovery | undefined
  readonly apiKey: Effect.Effect<Redacted.Redacted<string> | undefined>
  readonly declared: DeclaredCapabilities | undefined
  readonly healthInterval: Duration.Duration
  readonly metricsInterval: Duration.Duration
  readonly failureThreshold: number
  readonly cooldown: Duration.Duration
  /** The pool's call durations: reports are read a few times per typical call. */
  readonly times: CallTimes
}

/**
 * What a pool knows of its servers, apart from how it calls them: who the members are and whether they are up
 * (Membership), this pool's traffic to each (InFlight), each one's own load report (LoadReports) and what each is
 * and can do (ServerProfiles). Routing reads it as one nested view per server.
 */
export interface PoolView {
  /** Each server now, flat (`Pool.snapshot`: readiness, capacity, the start-up log). */
  readonly snapshot: Effect.Effect<ReadonlyArray<EndpointState>>
  /**
   * Each server now as routing sees it (member, traffic, report, profile), slow start at `slowStartMs`: for a pick,
   * which keeps the load reports read (LoadReports.forPick).
   */
  readonly views: (slowStartMs: number) => Effect.Effect<ReadonlyArray<EndpointView>>
  /**
   * `views` as a plain read at Clock millis `now`, for a try that picks in one Effect step: undefined where the pick
   * must first wait for a round of load reports (then `views` waits for it).
   */
  readonly viewsUnsafe: (slowStartMs: number, now: number) => ReadonlyArray<EndpointView> | undefined
  readonly membership: Membership
  readonly inFlight: InFlight
  readonly reports: LoadReports
  readonly profiles: ServerProfiles
  /** What the pool's servers can do: as declared, else as probed (every profiled server must have it). */
  readonly capabilities: Effect.Effect<Capabilities>
}

/** The pool's view of its servers; its probes and reads stop with the scope. */
export const makePoolView = Effect.fnUntraced(function* (
  options: PoolViewOptions,
): Effect.fn.Return<PoolView, never, OpenAiClient | Scope.Scope> {
  const inFlight = yield* makeInFlight()
  const membership = yield* makeMembership({
    pool: options.pool,
    servers: options.endpoints,
    discovery: options.discovery,
    inFlightOn: inFlight.requestsOn,
    apiKey: options.apiKey,
    healthInterval: options.healthInterval,
    failureThreshold: options.failureThreshold,
    cooldown: options.cooldown,
  })
  // Reports age relative to the calls they steer: read them a few times per typical call, between the floor and the
  // configured interval (short calls against a slow scrape herded bursts onto servers that looked idle).
  const reportInterval = Effect.map(options.times.medianLatency, (median) =>
    median === undefined
      ? options.metricsInterval
      : Duration.millis(
          Math.min(Duration.toMillis(options.metricsInterval), Math.max(MIN_REPORT_INTERVAL_MS, median / 4)),
        ),
  )
  const reports = yield* makeLoadReports({
    servers: membership.servers,
    ownSequencesOn: inFlight.sequencesOn,
    interval: reportInterval,
  })
  const profiles = yield* makeServerProfiles({
    pool: options.pool,
    model: options.model,
    apiKey: options.apiKey,
    membership,
    interval: options.healthInterval,
  })
  // Computed again only when a probe changed the statuses (a new map), not on every generation call (issue #24).
  let capabilitiesOf: ReadonlyMap<string, ServerStatus> | undefined
  let capabilitiesNow: Capabilities = poolCapabilities([], options.declared)
  const capabilitiesUnsafe = () => {
    const statuses = profiles.statusesUnsafe()
    if (statuses !== capabilitiesOf) {
      capabilitiesNow = poolCapabilities(
        [...statuses.values()].flatMap((status) => (status._tag === "Profiled" ? [status.profile.capabilities] : [])),
        options.declared,
      )
      capabilitiesOf = statuses
    }
    return capabilitiesNow
  }

  /**
   * Every server at Clock millis `now` as `each` makes it of its state and what its last probe showed: plain reads (what were a
   * dozen Effect steps per try, issue #24), each server's figures copied as they are now.
   */
  const read = <A>(
    latest: ReadonlyMap<string, LoadReport>,
    now: number,
    each: (state: EndpointState, profile: ServerProfile | undefined) => A,
  ) => {
    const traffic = inFlight.trafficUnsafe()
    const statuses = profiles.statusesUnsafe()
    const servers: Array<A> = []
    for (const [url, known] of membership.membersUnsafe()) {
      const own = traffic.get(url)
      const report = latest.get(url)
      const status = statuses.get(url)
      const state: EndpointState = {
        url,
        // A server that serves another model would fail every call: it is out of rotation until it rejoins.
        healthy: known.healthy && status?._tag !== "ModelMissing",
        consecutiveFailures: known.consecutiveFailures,
        downUntil: known.downUntil,
        lastFailure: known.lastFailure,
        inFlight: own?.sequences ?? 0,
        inFlightRequests: own?.requests ?? 0,
        inFlightShort: own?.shortRequests ?? 0,
        latencyMs: own?.latencyMs ?? 0,
        reported: report?.load,
        reportedAtMs: report?.atMs ?? 0,
        ownAtReport: report?.ownSequences ?? 0,
        joinedAtMs: known.joinedAtMs,
        leaving: known.leaving,
        probation: known.consecutiveFailures >= options.failureThreshold && now >= known.downUntil,
      }
      servers.push(each(state, status?._tag === "Profiled" ? status.profile : undefined))
    }
    return servers
  }
  const viewsAt = (latest: ReadonlyMap<string, LoadReport>, now: number, slowStartMs: number) =>
    read(latest, now, (state, profile) => viewOf(state, now, slowStartMs, profile))
  const nowOf = (fiber: Fiber.Fiber<unknown, unknown>) => fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()

  return {
    snapshot: Effect.withFiber((fiber) => Effect.succeed(read(reports.latestUnsafe(), nowOf(fiber), (state) => state))),
    views: (slowStartMs) =>
      Effect.withFiber((fiber) => {
        const now = nowOf(fiber)
        const latest = reports.forPickUnsafe(now)
        return latest === undefined
          ? Effect.flatMap(reports.forPick, (read) =>
              Effect.withFiber((fiber) => Effect.succeed(viewsAt(read, nowOf(fiber), slowStartMs))),
            )
          : Effect.succeed(viewsAt(latest, now, slowStartMs))
      }),
    viewsUnsafe: (slowStartMs, now) => {
      const latest = reports.forPickUnsafe(now)
      return latest === undefined ? undefined : viewsAt(latest, now, slowStartMs)
    },
    membership,
    inFlight,
    reports,
    profiles,
    capabilities: Effect.sync(capabilitiesUnsafe),
  } satisfies PoolView
})
