import { Clock, Context, Duration, Effect, Metric, Random, type Redacted, Schedule, type Scope } from "effect"
import type { ChatRequest, ChatResult } from "./ChatCompletion.ts"
import { NoCapacity, type UpstreamError } from "./FleetError.ts"
import { upstreamDuration, upstreamRequests } from "./FleetMetrics.ts"
import { makeInFlight } from "./InFlight.ts"
import { isFresh, makeLoadReports } from "./LoadReports.ts"
import { initialHealth, makeMembership } from "./Membership.ts"
import { OpenAiClient } from "./OpenAiClient.ts"
import { type EndpointState, pickEndpoint } from "./Router.ts"

export interface PoolOptions {
  /** Names the pool in errors, logs and metrics ("generator", "judge", …). */
  readonly name: string
  /** Base URLs of OpenAI-compatible servers, without /v1. */
  readonly endpoints: ReadonlyArray<string>
  readonly model: string
  /** Sent as `Authorization: Bearer …` (vLLM's --api-key); no header without one. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
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
  const membership = yield* makeMembership({
    pool: options.name,
    servers,
    healthInterval: options.healthInterval,
    failureThreshold: options.failureThreshold,
    cooldown: options.cooldown,
  })
  const reports = yield* makeLoadReports({ servers, interval: options.metricsInterval })
  const inFlight = yield* makeInFlight(servers)

  const snapshot = Effect.gen(function* () {
    const health = yield* membership.health
    const traffic = yield* inFlight.traffic
    const latest = yield* reports.latest
    return servers.map((url): EndpointState => {
      const own = traffic.get(url)
      const report = latest.get(url)
      return {
        url,
        ...(health.get(url) ?? initialHealth),
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

  const attempt = (request: ChatRequest, requestId: string, tried: Set<string>) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const picked = pickEndpoint(yield* snapshot, started, tried, yield* Random.next)
      if (picked === undefined) {
        return yield* new NoCapacity({ pool: options.name, message: `no server of the ${options.name} pool is up` })
      }
      const server = picked.url
      tried.add(server)
      const completion = yield* inFlight
        .track(
          server,
          request.n ?? 1,
          client.chat({ pool: options.name, server, model: options.model, apiKey: options.apiKey }, request, {
            requestId,
            timeout: options.requestTimeout,
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
    return yield* attempt(request, requestId, tried).pipe(
      Effect.retry({
        schedule: retryBackoff,
        times: options.maxAttempts - 1,
        while: (error) => error._tag === "UpstreamError" && error.retryable,
      }),
    )
  })

  return { name: options.name, model: options.model, complete, snapshot, upCount: membership.upCount } satisfies Pool
})
