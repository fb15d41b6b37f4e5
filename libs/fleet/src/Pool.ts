import { Clock, Context, Duration, Effect, Metric, Random, type Redacted, Schedule, type Scope } from "effect"
import { type Capabilities, type DeclaredCapabilities, poolCapabilities } from "./Capabilities.ts"
import type { ChatRequest, ChatResult } from "./ChatCompletion.ts"
import { type ModelNotServed, NoCapacity, type UpstreamError } from "./FleetError.ts"
import { upstreamDuration, upstreamRequests } from "./FleetMetrics.ts"
import { makeInFlight } from "./InFlight.ts"
import { isFresh, makeLoadReports } from "./LoadReports.ts"
import { initialHealth, makeMembership } from "./Membership.ts"
import { OpenAiClient } from "./OpenAiClient.ts"
import { type EndpointState, pickEndpoint } from "./Router.ts"
import { makeServerProfiles, type ServerStatus } from "./ServerProfiles.ts"

export interface PoolOptions {
  /** Names the pool in errors, logs and metrics ("generator", "judge", …). */
  readonly name: string
  /** Base URLs of OpenAI-compatible servers, without /v1. */
  readonly endpoints: ReadonlyArray<string>
  readonly model: string
  /**
   * Sent as `Authorization: Bearer …` (vLLM's --api-key); no header without one. Read for every call, so a key that
   * changes (a rotated key file) is used from the next call on.
   */
  readonly apiKey?: Effect.Effect<Redacted.Redacted<string> | undefined> | undefined
  /** What the operator declares about the servers; each one overrides what probing finds. */
  readonly capabilities?: DeclaredCapabilities | undefined
  /** Deadline of one HTTP call (the caller's own deadline still interrupts sooner). */
  readonly requestTimeout: Duration.Duration
  /** Tries of one call, each on another server when there is one. */
  readonly maxAttempts: number
  /** Consecutive failures that take a server out of rotation for `cooldown`. */
  readonly failureThreshold: number
  readonly cooldown: Duration.Duration
  readonly healthInterval: Duration.Duration
  /** How often each server's /metrics is read for load-aware routing (reports older than 2 s are ignored). */
  readonly metricsInterval: Duration.Duration
}

export interface CallOptions {
  /** What the call is for ("summary", "judge", …): part of the X-Request-Id the server logs. */
  readonly label: string
  /** Stream and abort as soon as every sample wrote one of these (for servers that ignore stop strings). */
  readonly cutAt?: ReadonlyArray<string>
}

/** The gateway's id of the Reason call being served; upstream request ids start with it. */
export const RequestId = Context.Reference<string>("@stagebeam/fleet/RequestId", { defaultValue: () => "internal" })

export interface Pool {
  readonly name: string
  readonly model: string
  /** Sends one chat completion to the least-loaded up server, failing over to others on retryable errors. */
  readonly complete: (
    request: ChatRequest,
    options: CallOptions,
  ) => Effect.Effect<ChatResult, UpstreamError | NoCapacity>
  /** What routing sees of each server now. */
  readonly snapshot: Effect.Effect<ReadonlyArray<EndpointState>>
  /** How many servers are up now (for readiness). */
  readonly upCount: Effect.Effect<number>
  /** What the pool's servers can do: as declared, else as probed (every profiled server must have it). */
  readonly capabilities: Effect.Effect<Capabilities>
  /** What each server's last probe showed. */
  readonly statuses: Effect.Effect<ReadonlyMap<string, ServerStatus>>
  /** Probes every server once (the Fleet does it at start); fails when one serves another model. */
  readonly probeAll: Effect.Effect<void, ModelNotServed>
}

/** Jittered, so several gateway replicas that saw the same failure do not retry in step. */
const retryBackoff = Schedule.exponential(Duration.millis(50)).pipe(Schedule.jittered)

/**
 * A pool of servers serving one model: membership and health, load reports, and the call path (route to the
 * least-loaded up server, count the call in flight there, fail over on retryable errors). Its probes stop with
 * the scope.
 */
export const makePool = Effect.fnUntraced(function* (
  options: PoolOptions,
): Effect.fn.Return<Pool, never, OpenAiClient | Scope.Scope> {
  const client = yield* OpenAiClient
  const servers = options.endpoints
  const apiKey = options.apiKey ?? Effect.succeed(undefined)
  const membership = yield* makeMembership({
    pool: options.name,
    servers,
    apiKey,
    healthInterval: options.healthInterval,
    failureThreshold: options.failureThreshold,
    cooldown: options.cooldown,
  })
  const reports = yield* makeLoadReports({ servers, interval: options.metricsInterval })
  const inFlight = yield* makeInFlight(servers)
  const profiles = yield* makeServerProfiles({
    pool: options.name,
    model: options.model,
    servers,
    apiKey,
    membership,
    interval: options.healthInterval,
  })
  const capabilities = Effect.map(profiles.profiles, (probed) =>
    poolCapabilities(
      probed.map((profile) => profile.capabilities),
      options.capabilities,
    ),
  )

  const snapshot = Effect.gen(function* () {
    const health = yield* membership.health
    const traffic = yield* inFlight.traffic
    const latest = yield* reports.latest
    const statuses = yield* profiles.statuses
    return servers.map((url): EndpointState => {
      const own = traffic.get(url)
      const report = latest.get(url)
      const serving = statuses.get(url)?._tag !== "ModelMissing"
      const known = health.get(url) ?? initialHealth
      return {
        url,
        ...known,
        // A server that serves another model would fail every call: it is out of rotation until it rejoins.
        healthy: known.healthy && serving,
        inFlight: own?.sequences ?? 0,
        inFlightRequests: own?.requests ?? 0,
        latencyMs: own?.latencyMs ?? 0,
        reported: report?.load,
        reportedAtMs: report?.atMs ?? 0,
      }
    })
  })

  const count = (server: string, outcome: string) =>
    Metric.update(Metric.withAttributes(upstreamRequests, { pool: options.name, endpoint: server, outcome }), 1)

  // A timeout from a server whose /metrics still answers is a long queue, not a dead server: vLLM queues without
  // limit, so taking it out of rotation would only pile its load onto the others.
  const countAgainst = (server: string, error: UpstreamError) =>
    Effect.gen(function* () {
      if (!error.retryable) return
      if (error.kind === "timeout") {
        const report = (yield* reports.latest).get(server)
        if (isFresh(report, yield* Clock.currentTimeMillis)) return
      }
      yield* membership.failed(server)
    })

  const attempt = (request: ChatRequest, requestId: string, tried: Set<string>, cutAt: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const picked = pickEndpoint(yield* snapshot, started, tried, yield* Random.next)
      if (picked === undefined) {
        return yield* new NoCapacity({ pool: options.name, message: `no server of the ${options.name} pool is up` })
      }
      const server = picked.url
      tried.add(server)
      const status = (yield* profiles.statuses).get(server)
      const profile = status?._tag === "Profiled" ? status.profile : undefined
      const target = { pool: options.name, server, model: options.model, apiKey: yield* apiKey, kind: profile?.kind }
      const completion = yield* inFlight
        .track(
          server,
          request.n ?? 1,
          client.chat(target, request, {
            requestId,
            timeout: options.requestTimeout,
            ...(cutAt.length > 0 && { cutAt, streamUsage: profile?.capabilities.usage ?? false }),
          }),
        )
        .pipe(
          Effect.tapError((error) =>
            Effect.all([
              countAgainst(server, error),
              count(server, error.kind),
              Effect.logWarning(error.retryable ? "upstream call failed; failing over" : "upstream call refused").pipe(
                Effect.annotateLogs({
                  pool: options.name,
                  server,
                  kind: error.kind,
                  ...(error.status === undefined ? {} : { status: error.status }),
                  error: error.message,
                }),
              ),
            ]),
          ),
        )
      const ms = (yield* Clock.currentTimeMillis) - started
      yield* count(server, "ok")
      yield* Metric.update(Metric.withAttributes(upstreamDuration, { pool: options.name }), ms / 1000)
      yield* membership.succeeded(server)
      yield* inFlight.recordLatency(server, ms)
      return { completion, server } satisfies ChatResult
    })

  const complete = Effect.fn("Pool.complete")(function* (request: ChatRequest, callOptions: CallOptions) {
    const suffix = (yield* Random.nextInt).toString(36)
    const requestId = `${yield* RequestId}.${callOptions.label}.${suffix}`
    yield* Effect.annotateCurrentSpan({ pool: options.name, requestId })
    const tried = new Set<string>()
    return yield* attempt(request, requestId, tried, callOptions.cutAt ?? []).pipe(
      Effect.retry({
        schedule: retryBackoff,
        times: options.maxAttempts - 1,
        while: (error) => error._tag === "UpstreamError" && error.retryable,
      }),
    )
  })

  return {
    name: options.name,
    model: options.model,
    complete,
    snapshot,
    upCount: membership.upCount,
    capabilities,
    statuses: profiles.statuses,
    probeAll: profiles.probeAll,
  } satisfies Pool
})
