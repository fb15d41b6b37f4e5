import { Clock, Context, Duration, Effect, Metric, Random, Ref, Schedule, type Scope } from "effect"
import type { ChatRequest, ChatResult } from "./ChatCompletion.ts"
import { NoCapacity, type UpstreamError } from "./FleetError.ts"
import { upstreamDuration, upstreamRequests } from "./FleetMetrics.ts"
import { OpenAiClient } from "./OpenAiClient.ts"
import {
  type EndpointState,
  initialState,
  isUp,
  pickEndpoint,
  recordFailure,
  recordSuccess,
  STALE_AFTER_MS,
} from "./Router.ts"

export interface PoolOptions {
  /** Names the pool in errors and logs ("generator", "judge"). */
  readonly name: string
  /** Base URLs of OpenAI-compatible servers, without /v1. */
  readonly endpoints: ReadonlyArray<string>
  readonly model: string
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
  /** Sends one chat completion to the least-loaded up server, failing over to others on retryable errors. */
  readonly complete: (
    request: ChatRequest,
    options: CallOptions,
  ) => Effect.Effect<ChatResult, UpstreamError | NoCapacity>
  readonly snapshot: Effect.Effect<ReadonlyArray<EndpointState>>
  /** How many servers are up now (for readiness). */
  readonly upCount: Effect.Effect<number>
}

/** Jittered, so several gateway replicas that saw the same failure do not retry in step. */
const retryBackoff = Schedule.exponential(Duration.millis(50)).pipe(Schedule.jittered)
const HEALTH_PROBE_TIMEOUT = Duration.seconds(2)
const METRICS_TIMEOUT = Duration.seconds(1)

/** Builds a pool and starts its health probes, which stop with the scope. */
export const makePool = Effect.fnUntraced(function* (
  options: PoolOptions,
): Effect.fn.Return<Pool, never, OpenAiClient | Scope.Scope> {
  const client = yield* OpenAiClient
  const states = yield* Ref.make<ReadonlyArray<EndpointState>>(options.endpoints.map(initialState))
  const cooldownMs = Duration.toMillis(options.cooldown)

  const updateEndpoint = (url: string, f: (state: EndpointState) => EndpointState) =>
    Ref.update(states, (all) => all.map((state) => (state.url === url ? f(state) : state)))

  const probe = (url: string) =>
    Effect.flatMap(client.health(url, HEALTH_PROBE_TIMEOUT), (healthy) =>
      updateEndpoint(url, (state) => ({ ...state, healthy })),
    )

  yield* Effect.forEach(options.endpoints, probe, { concurrency: "unbounded", discard: true }).pipe(
    Effect.repeat(Schedule.spaced(options.healthInterval)),
    Effect.forkScoped,
  )

  const scrape = (url: string) =>
    Effect.gen(function* () {
      const report = yield* client.serverLoad(url, METRICS_TIMEOUT)
      if (report === undefined) return
      const at = yield* Clock.currentTimeMillis
      yield* updateEndpoint(url, (state) => ({ ...state, reported: report, reportedAtMs: at }))
    })

  yield* Effect.forEach(options.endpoints, scrape, { concurrency: "unbounded", discard: true }).pipe(
    Effect.repeat(Schedule.spaced(options.metricsInterval)),
    Effect.forkScoped,
  )

  const attempt = (request: ChatRequest, requestId: string, tried: Set<string>) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const tieBreak = yield* Random.next
      const endpoint = pickEndpoint(yield* Ref.get(states), now, tried, tieBreak)
      if (endpoint === undefined) {
        return yield* new NoCapacity({ pool: options.name, message: `no server of the ${options.name} pool is up` })
      }
      tried.add(endpoint.url)
      const sequences = request.n ?? 1
      const started = now
      // A timeout from a server whose /metrics still answers is a long queue, not a dead server: vLLM queues
      // without limit, so taking it out of rotation would only pile its load onto the others.
      const markFailure = (error: UpstreamError) =>
        Effect.gen(function* () {
          if (!error.retryable) return
          const at = yield* Clock.currentTimeMillis
          const current = (yield* Ref.get(states)).find((state) => state.url === endpoint.url)
          const alive =
            current !== undefined && current.reported !== undefined && at - current.reportedAtMs <= STALE_AFTER_MS
          if (error.kind === "timeout" && alive) return
          yield* updateEndpoint(endpoint.url, (state) => recordFailure(state, at, options.failureThreshold, cooldownMs))
        })
      const completion = yield* Effect.acquireUseRelease(
        updateEndpoint(endpoint.url, (state) => ({
          ...state,
          inFlight: state.inFlight + sequences,
          inFlightRequests: state.inFlightRequests + 1,
        })),
        () =>
          client.chat(endpoint.url, options.model, request, {
            requestId,
            timeout: options.requestTimeout,
          }),
        () =>
          updateEndpoint(endpoint.url, (state) => ({
            ...state,
            inFlight: state.inFlight - sequences,
            inFlightRequests: state.inFlightRequests - 1,
          })),
      ).pipe(
        Effect.tapError(markFailure),
        Effect.tapError((error) =>
          Metric.update(
            Metric.withAttributes(upstreamRequests, {
              pool: options.name,
              endpoint: endpoint.url,
              outcome: error.kind,
            }),
            1,
          ),
        ),
      )
      const finished = yield* Clock.currentTimeMillis
      yield* Metric.update(
        Metric.withAttributes(upstreamRequests, { pool: options.name, endpoint: endpoint.url, outcome: "ok" }),
        1,
      )
      yield* Metric.update(Metric.withAttributes(upstreamDuration, { pool: options.name }), (finished - started) / 1000)
      yield* updateEndpoint(endpoint.url, (state) => recordSuccess(state, finished - started))
      return { completion, endpoint: endpoint.url } satisfies ChatResult
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

  const upCount = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    return (yield* Ref.get(states)).filter((state) => isUp(state, now)).length
  })

  return { name: options.name, complete, snapshot: Ref.get(states), upCount } satisfies Pool
})
