import { Clock, Context, Duration, Effect, Metric, Random, type Redacted, Schedule, type Scope } from "effect"
import { makeCallTimes } from "./CallTimes.ts"
import { type Capabilities, type DeclaredCapabilities, poolCapabilities } from "./Capabilities.ts"
import type { ChatRequest, ChatResult } from "./ChatCompletion.ts"
import type { Discovery } from "./Discovery.ts"
import { type ModelNotServed, NoCapacity, type UpstreamError } from "./FleetError.ts"
import {
  callKind,
  hedges,
  retriesRefused,
  upstreamCallsOf,
  upstreamDurationOf,
  upstreamRequestsOf,
} from "./FleetMetrics.ts"
import { boundedTryTimeout } from "./HangBound.ts"
import { makeInFlight } from "./InFlight.ts"
import { isFresh, makeLoadReports } from "./LoadReports.ts"
import { makeMembership } from "./Membership.ts"
import { type CallTarget, type ChoiceListener, OpenAiClient } from "./OpenAiClient.ts"
import type { ServerProfile } from "./Probe.ts"
import { makeRetryBudget, RETRY_BUDGET_MINIMUM, type RetryBudgetOptions } from "./RetryBudget.ts"
import { defaultRouting, type EndpointState, pickEndpoint, type RoutingOptions, SHORT_CALL_TOKENS } from "./Router.ts"
import { makeServerProfiles, type ServerStatus } from "./ServerProfiles.ts"
import { inSpan } from "./Spans.ts"
import { failureReason, noServerMessage } from "./Unavailability.ts"

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
  /** Where to look for servers again while the pool runs (DNS, a file); without it `endpoints` stays the list. */
  readonly discovery?: Discovery | undefined
  /** How calls pick a server, and how long a server that joined a running pool ramps up (default: least-loaded, none). */
  readonly routing?: RoutingOptions | undefined
  /**
   * The least time a try gets before it counts as hung (default 5 s): each try's timeout is derived from what the
   * call may generate at the server's observed speed, between this floor and `requestTimeout`.
   */
  readonly tryTimeoutFloor?: Duration.Duration | undefined
  /** Retries allowed as a share of calls over a window (default 20% over 10 s, at least RETRY_BUDGET_MINIMUM). */
  readonly retryBudget?: RetryBudgetOptions | undefined
  /** Calls whose label starts with one of these are hedged: a second try elsewhere once the first is slower than 9 in 10. */
  readonly hedge?: ReadonlyArray<string> | undefined
}

const DEFAULT_RETRY_BUDGET: RetryBudgetOptions = {
  ratio: 0.2,
  minimum: RETRY_BUDGET_MINIMUM,
  window: Duration.seconds(10),
}
const HEDGE_QUANTILE = 0.9
// A floor that keeps polling cheap whatever the calls' length: at 50 ms, one-token verdicts kept a 4-server pool at
// 36–73 scrapes/s (issue #24); reports stay fresh for 2 s, and routing counts its own calls between them.
const MIN_REPORT_INTERVAL_MS = 500

export interface CallOptions {
  /** What the call is for ("summary", "judge", …): part of the X-Request-Id the server logs. */
  readonly label: string
  /** Stream and abort as soon as every sample wrote one of these (for servers that ignore stop strings). */
  readonly cutAt?: ReadonlyArray<string>
  /** Calls sharing a prompt prefix (one search's) share this key; routing with affinity keeps them on one server. */
  readonly affinity?: string
  /** Hand on each sample as it finishes (the call is streamed); after a failover the next server's come again. */
  readonly onChoice?: ChoiceListener
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
  /**
   * POSTs a JSON body to a non-chat route (vLLM's /pooling, /score) of a server picked as for a chat call, with the
   * same failover and retry budget; `sequences` is what the call occupies there (its inputs), for routing. The pool's
   * model is added to the body.
   */
  readonly post: (
    path: string,
    body: object,
    options: CallOptions & { readonly sequences: number },
  ) => Effect.Effect<{ readonly json: unknown; readonly server: string }, UpstreamError | NoCapacity>
  /** What routing sees of each server now. */
  readonly snapshot: Effect.Effect<ReadonlyArray<EndpointState>>
  /** How many servers are up now (for readiness). */
  readonly upCount: Effect.Effect<number>
  /** What the pool's servers can do: as declared, else as probed (every profiled server must have it). */
  readonly capabilities: Effect.Effect<Capabilities>
  /** What the settings declare of its servers (`pools.<name>.capabilities`), nothing probed. */
  readonly declaredCapabilities?: DeclaredCapabilities | undefined
  /** What each server's last probe showed. */
  readonly statuses: Effect.Effect<ReadonlyMap<string, ServerStatus>>
  /** Probes every server once (the Fleet does it at start); fails when one serves another model. */
  readonly probeAll: Effect.Effect<void, ModelNotServed>
}

/** The pause before retry `n` (1-based): 50 ms doubling, jittered so replicas that saw one failure do not retry in step. */
/** Failover's pacing: 50 ms before the first retry, doubling, each jittered to between half and one and a half. */
const failoverSchedule = Schedule.exponential(Duration.millis(50)).pipe(
  Schedule.modifyDelay(({ duration }) => Effect.map(Random.next, (draw) => Duration.times(duration, 0.5 + draw))),
)

/** The most a call may generate when it does not say (vLLM's default is the context left). */
const DEFAULT_MAX_TOKENS = 2048

/**
 * A pool of servers serving one model: membership and health, load reports, and the call path (route to the
 * least-loaded up server, count the call in flight there, fail over on retryable errors). Its probes stop with
 * the scope.
 */
export const makePool = Effect.fnUntraced(function* (
  options: PoolOptions,
): Effect.fn.Return<Pool, never, OpenAiClient | Scope.Scope> {
  const client = yield* OpenAiClient
  const apiKey = options.apiKey ?? Effect.succeed(undefined)
  const routing = options.routing ?? defaultRouting
  const inFlight = yield* makeInFlight()
  const membership = yield* makeMembership({
    pool: options.name,
    servers: options.endpoints,
    discovery: options.discovery,
    inFlightOn: inFlight.requestsOn,
    apiKey,
    healthInterval: options.healthInterval,
    failureThreshold: options.failureThreshold,
    cooldown: options.cooldown,
  })
  const tryTimeoutFloor = options.tryTimeoutFloor ?? Duration.seconds(5)
  const times = yield* makeCallTimes({
    floor: tryTimeoutFloor,
    ceiling: options.requestTimeout,
  })
  // Reports age relative to the calls they steer: read them a few times per typical call, between the floor and the
  // configured interval (short calls against a slow scrape herded bursts onto servers that looked idle).
  const reportInterval = Effect.map(times.medianLatency, (median) =>
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
    pool: options.name,
    model: options.model,
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
    const members = yield* membership.members
    const traffic = yield* inFlight.traffic
    const latest = yield* reports.latest
    const statuses = yield* profiles.statuses
    const now = yield* Clock.currentTimeMillis
    return [...members].map(([url, known]): EndpointState => {
      const own = traffic.get(url)
      const report = latest.get(url)
      const serving = statuses.get(url)?._tag !== "ModelMissing"
      return {
        url,
        healthy: known.healthy && serving,
        consecutiveFailures: known.consecutiveFailures,
        downUntil: known.downUntil,
        lastFailure: known.lastFailure,
        // A server that serves another model would fail every call: it is out of rotation until it rejoins.
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
    })
  })
  let turn = 0
  const budget = yield* makeRetryBudget(options.retryBudget ?? DEFAULT_RETRY_BUDGET)

  const count = (server: string, outcome: string, label: string) =>
    Effect.andThen(
      Metric.update(upstreamRequestsOf(options.name, server, outcome), 1),
      Metric.update(upstreamCallsOf(options.name, callKind(label), outcome), 1),
    )

  // A timeout from a server whose fresh /metrics shows requests waiting is a long queue, not a hang: vLLM queues
  // without limit, so taking it out of rotation would only pile its load onto the others. Without a queue it is a
  // hang, and counts against the server.
  const countAgainst = (server: string, error: UpstreamError) =>
    Effect.gen(function* () {
      if (!error.retryable) return
      if (error.kind === "timeout") {
        const report = (yield* reports.latest).get(server)
        if (isFresh(report, yield* Clock.currentTimeMillis) && report.load.waiting > 0) return
      }
      yield* membership.failed(server, failureReason(error.kind, error.message))
    })

  /**
   * One try of one call on the server routing picks (not one already tried): counted in flight, timed, failed over
   * from. `sequences` is what it occupies there, `maxTokens` what it may generate (for its timeout), and
   * `completionTokens` what it did generate per sequence (for the pool's speed).
   */
  const routed = <A>(
    callOptions: CallOptions,
    tried: Set<string>,
    load: { readonly sequences: number; readonly maxTokens: number },
    call: (
      target: CallTarget,
      profile: ServerProfile | undefined,
      timeout: Duration.Duration,
    ) => Effect.Effect<A, UpstreamError>,
    completionTokens: (answer: A) => number,
  ) =>
    Effect.gen(function* () {
      const { label } = callOptions
      const started = yield* Clock.currentTimeMillis
      const draws = [yield* Random.next, yield* Random.next]
      const short = load.maxTokens <= SHORT_CALL_TOKENS
      const picked = pickEndpoint(
        yield* snapshot,
        started,
        tried,
        () => draws.shift() ?? 0,
        routing,
        turn++,
        callOptions.affinity,
        short,
      )
      if (picked === undefined) {
        const message = noServerMessage(options.name, yield* snapshot, started, tried)
        return yield* new NoCapacity({ pool: options.name, message })
      }
      const server = picked.url
      tried.add(server)
      const status = (yield* profiles.statuses).get(server)
      const profile = status?._tag === "Profiled" ? status.profile : undefined
      const target = { pool: options.name, server, model: options.model, apiKey: yield* apiKey, kind: profile?.kind }
      const timeout = yield* boundedTryTimeout(times, server, label, load.maxTokens, tryTimeoutFloor)
      const answer = yield* inFlight.track(server, load.sequences, call(target, profile, timeout), short).pipe(
        Effect.tapError((error) =>
          Effect.all([
            countAgainst(server, error),
            count(server, error.kind, label),
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
      yield* count(server, "ok", label)
      yield* Metric.update(upstreamDurationOf(options.name), ms / 1000)
      yield* membership.succeeded(server)
      yield* inFlight.recordLatency(server, ms)
      yield* times.record(server, label, ms, completionTokens(answer))
      return { answer, server }
    })

  const attempt = (request: ChatRequest, requestId: string, callOptions: CallOptions, tried: Set<string>) =>
    Effect.map(
      routed(
        callOptions,
        tried,
        { sequences: request.n ?? 1, maxTokens: request.max_tokens ?? DEFAULT_MAX_TOKENS },
        (target, profile, timeout) => {
          const cutAt = callOptions.cutAt ?? []
          const streamed = cutAt.length > 0 || callOptions.onChoice !== undefined
          return client.chat(target, request, {
            requestId,
            timeout,
            ...(cutAt.length > 0 && { cutAt }),
            ...(callOptions.onChoice !== undefined && { onChoice: callOptions.onChoice }),
            ...(streamed && { streamUsage: profile?.capabilities.usage ?? false }),
          })
        },
        (completion) => completion.usage.completion_tokens / Math.max(1, completion.choices.length),
      ),
      ({ answer, server }): ChatResult => ({ completion: answer, server }),
    )

  const retryable = (error: UpstreamError | NoCapacity) => error._tag === "UpstreamError" && error.retryable

  /** Whether a failed call may try again: a retryable error, tries left, and a retry taken from the pool's budget. */
  const mayRetry = (retries: { count: number }) => (error: UpstreamError | NoCapacity) =>
    Effect.gen(function* () {
      if (retries.count >= options.maxAttempts - 1 || !retryable(error)) return false
      if (!(yield* budget.take)) {
        yield* Effect.logWarning("retry budget spent: the call fails without another try").pipe(
          Effect.annotateLogs({ pool: options.name }),
        )
        yield* Metric.update(Metric.withAttributes(retriesRefused, { pool: options.name }), 1)
        return false
      }
      retries.count++
      return true
    })

  /**
   * Tries on up to `maxAttempts` servers (failoverSchedule), each retry taken from the pool's retry budget. Where no
   * server is left to try (the failing ones were taken out), the last server's own error says more than NoCapacity.
   */
  const withRetries = <A>(
    first: Effect.Effect<A, UpstreamError | NoCapacity>,
    again: Effect.Effect<A, UpstreamError | NoCapacity>,
  ) =>
    Effect.suspend(() => {
      const retries = { count: 0 }
      let lastUpstream: UpstreamError | undefined
      const remembered = <B>(effect: Effect.Effect<B, UpstreamError | NoCapacity>) =>
        effect.pipe(
          Effect.tapError((error) =>
            Effect.sync(() => {
              if (error._tag === "UpstreamError") lastUpstream = error
            }),
          ),
        )
      let firstDone = false
      return Effect.suspend(() => {
        const attempt = firstDone ? again : first
        firstDone = true
        return remembered(attempt)
      }).pipe(
        Effect.retry({ schedule: failoverSchedule, while: mayRetry(retries) }),
        Effect.catchTag("NoCapacity", (error) => Effect.fail(lastUpstream ?? error)),
      )
    })

  /**
   * A hedged call: when the first try is slower than 9 in 10 recent calls of its label, a second goes to another
   * server (from the retry budget); the first to answer wins and the other is interrupted, which aborts its HTTP
   * request.
   */
  const hedged = <A>(label: string, one: Effect.Effect<A, UpstreamError | NoCapacity>) =>
    Effect.gen(function* () {
      const after = yield* times.latencyQuantile(label, HEDGE_QUANTILE)
      if (after === undefined) return yield* one
      const second = Effect.sleep(Duration.millis(after)).pipe(
        Effect.andThen(budget.take),
        Effect.flatMap((allowed) =>
          allowed
            ? Effect.andThen(Metric.update(Metric.withAttributes(hedges, { pool: options.name }), 1), one)
            : Effect.never,
        ),
      )
      return yield* Effect.race(one, second)
    })

  const complete = Effect.fnUntraced(function* (request: ChatRequest, callOptions: CallOptions) {
    const suffix = (yield* Random.nextInt).toString(36)
    const requestId = `${yield* RequestId}.${callOptions.label}.${suffix}`
    yield* Effect.annotateCurrentSpan({ pool: options.name, requestId })
    const tried = new Set<string>()
    const once = attempt(request, requestId, callOptions, tried)
    yield* budget.called
    const first = options.hedge?.some((prefix) => callOptions.label.startsWith(prefix))
      ? hedged(callOptions.label, once)
      : once
    return yield* withRetries(first, once)
  }, inSpan("Pool.complete"))

  const post = Effect.fnUntraced(function* (
    path: string,
    body: object,
    callOptions: CallOptions & { readonly sequences: number },
  ) {
    const suffix = (yield* Random.nextInt).toString(36)
    const requestId = `${yield* RequestId}.${callOptions.label}.${suffix}`
    yield* Effect.annotateCurrentSpan({ pool: options.name, requestId, path })
    const tried = new Set<string>()
    // Pooling generates nothing: the whole call counts as one unit of work, so its timeout follows its own latency.
    const once = routed(
      callOptions,
      tried,
      { sequences: callOptions.sequences, maxTokens: 1 },
      (target, _profile, timeout) =>
        client.post(target, path, { ...body, model: options.model }, { requestId, timeout }),
      () => 1,
    )
    yield* budget.called
    const { answer, server } = yield* withRetries(once, once)
    return { json: answer, server }
  }, inSpan("Pool.post"))

  return {
    name: options.name,
    model: options.model,
    complete,
    post,
    snapshot,
    upCount: membership.upCount,
    capabilities,
    declaredCapabilities: options.capabilities,
    statuses: profiles.statuses,
    probeAll: profiles.probeAll,
  } satisfies Pool
})
