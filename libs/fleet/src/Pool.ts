import { Clock, Context, Duration, Effect, type Fiber, Random, type Redacted, References, type Scope } from "effect"
import { base36 } from "./Base36.ts"
import { makeCallTimes } from "./CallTimes.ts"
import type { Capabilities, DeclaredCapabilities } from "./Capabilities.ts"
import type { ChatRequest, ChatResult } from "./ChatCompletion.ts"
import type { Discovery } from "./Discovery.ts"
import { makeFailover } from "./Failover.ts"
import type { ModelNotServed, NoCapacity, UpstreamError } from "./FleetError.ts"
import { makeHedging } from "./Hedging.ts"
import { type ChoiceListener, OpenAiClient } from "./OpenAiClient.ts"
import { makePoolKey, withFreshKey } from "./PoolKey.ts"
import { makeTry } from "./PoolTry.ts"
import { makePoolView } from "./PoolView.ts"
import { makeRetryBudget, RETRY_BUDGET_MINIMUM, type RetryBudgetOptions } from "./RetryBudget.ts"
import { defaultRouting, type EndpointState, type RoutingOptions } from "./Router.ts"
import type { ServerStatus } from "./ServerProfiles.ts"
import { inSpan } from "./Spans.ts"

export interface PoolOptions {
  /** Names the pool in errors, logs and metrics ("generator", "judge", …). */
  readonly name: string
  /** Base URLs of OpenAI-compatible servers, without /v1. */
  readonly endpoints: ReadonlyArray<string>
  readonly model: string
  /**
   * Sent as `Authorization: Bearer …` (vLLM's --api-key); no header without one. Without `apiKeyRefresh` it is read
   * for every call (so it must be cheap), and a key that changes is used from the next call on.
   */
  readonly apiKey?: Effect.Effect<Redacted.Redacted<string> | undefined> | undefined
  /**
   * For an `apiKey` that does I/O (a key file): the calls carry the last key read, read again on this schedule in
   * the background and at once when a server answers 401 or 403 (the call is then tried once more with a new key).
   */
  readonly apiKeyRefresh?: Duration.Duration | undefined
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

/** The most a call may generate when it does not say (vLLM's default is the context left). */
const DEFAULT_MAX_TOKENS = 2048

/**
 * A pool of servers serving one model: its view of the servers (PoolView: membership and health, traffic, load
 * reports, profiles) and its call path (PoolTry: one try on the server routing picks; Failover: the retries;
 * Hedging: a second try for a slow one). Its probes stop with the scope.
 */
export const makePool = Effect.fnUntraced(function* (
  options: PoolOptions,
): Effect.fn.Return<Pool, never, OpenAiClient | Scope.Scope> {
  const client = yield* OpenAiClient
  const tryTimeoutFloor = options.tryTimeoutFloor ?? Duration.seconds(5)
  const times = yield* makeCallTimes({ floor: tryTimeoutFloor, ceiling: options.requestTimeout })
  const key = yield* makePoolKey(options.apiKey, options.apiKeyRefresh)
  const freshKey = withFreshKey(key, options.name)
  const view = yield* makePoolView({
    pool: options.name,
    model: options.model,
    endpoints: options.endpoints,
    discovery: options.discovery,
    apiKey: key.current,
    declared: options.capabilities,
    healthInterval: options.healthInterval,
    metricsInterval: options.metricsInterval,
    failureThreshold: options.failureThreshold,
    cooldown: options.cooldown,
    times,
  })
  const budget = yield* makeRetryBudget(options.retryBudget ?? DEFAULT_RETRY_BUDGET)
  const routed = makeTry(
    {
      pool: options.name,
      model: options.model,
      routing: options.routing ?? defaultRouting,
      apiKey: key.current,
      apiKeyUnsafe: key.currentUnsafe,
      tryTimeoutFloor,
    },
    view,
    times,
  )
  const withFailover = makeFailover({ pool: options.name, maxAttempts: options.maxAttempts, budget })
  const hedged = makeHedging({ pool: options.name, times, budget })

  /**
   * A call's first step, in one Effect step (issue #24): its upstream request id (the Reason call's, what the call
   * is for, and a draw), its count in the retry budget and, with the tracer on, its span (`inSpan`) and the span's
   * annotations; then `run` with the id.
   */
  const calling = <A, E>(
    span: <X, Y>(effect: Effect.Effect<X, Y>) => Effect.Effect<X, Y>,
    label: string,
    annotations: Record<string, unknown>,
    run: (requestId: string) => Effect.Effect<A, E>,
  ): Effect.Effect<A, E> => {
    const start = (fiber: Fiber.Fiber<unknown, unknown>, traced: boolean) => {
      const requestId = `${fiber.getRef(RequestId)}.${label}.${base36(fiber.getRef(Random.Random).nextIntUnsafe())}`
      budget.calledAt(fiber.getRef(Clock.Clock).currentTimeMillisUnsafe())
      return traced
        ? Effect.andThen(Effect.annotateCurrentSpan({ pool: options.name, requestId, ...annotations }), run(requestId))
        : run(requestId)
    }
    return Effect.withFiber((fiber) =>
      fiber.getRef(References.TracerEnabled)
        ? span(Effect.withFiber((inside) => start(inside, true)))
        : start(fiber, false),
    )
  }

  const completeSpan = inSpan("Pool.complete")
  const complete = (
    request: ChatRequest,
    callOptions: CallOptions,
  ): Effect.Effect<ChatResult, UpstreamError | NoCapacity> =>
    calling(completeSpan, callOptions.label, {}, (requestId) => {
      const tried = new Set<string>()
      const cutAt = callOptions.cutAt ?? []
      const streamed = cutAt.length > 0 || callOptions.onChoice !== undefined
      const once = freshKey(
        routed(
          {
            label: callOptions.label,
            affinity: callOptions.affinity,
            sequences: request.n ?? 1,
            maxTokens: request.max_tokens ?? DEFAULT_MAX_TOKENS,
          },
          tried,
          (target, profile, timeout) =>
            client.chat(target, request, {
              requestId,
              timeout,
              ...(cutAt.length > 0 && { cutAt }),
              ...(callOptions.onChoice !== undefined && { onChoice: callOptions.onChoice }),
              ...(streamed && { streamUsage: profile?.capabilities.usage ?? false }),
            }),
          (completion) => completion.usage.completion_tokens / Math.max(1, completion.choices.length),
          (completion, server): ChatResult => ({ completion, server }),
        ),
      )
      const first = options.hedge?.some((prefix) => callOptions.label.startsWith(prefix))
        ? hedged(callOptions.label, once)
        : once
      return withFailover(first, once)
    })

  const postSpan = inSpan("Pool.post")
  const post = (
    path: string,
    body: object,
    callOptions: CallOptions & { readonly sequences: number },
  ): Effect.Effect<{ readonly json: unknown; readonly server: string }, UpstreamError | NoCapacity> =>
    calling(postSpan, callOptions.label, { path }, (requestId) => {
      const tried = new Set<string>()
      // Pooling generates nothing: the whole call counts as one unit of work, so its timeout follows its own latency.
      const once = freshKey(
        routed(
          {
            label: callOptions.label,
            affinity: callOptions.affinity,
            sequences: callOptions.sequences,
            maxTokens: 1,
          },
          tried,
          (target, _profile, timeout) =>
            client.post(target, path, { ...body, model: options.model }, { requestId, timeout }),
          () => 1,
          (json, server) => ({ json, server }),
        ),
      )
      return withFailover(once, once)
    })

  return {
    name: options.name,
    model: options.model,
    complete,
    post,
    snapshot: view.snapshot,
    upCount: view.membership.upCount,
    capabilities: view.capabilities,
    declaredCapabilities: options.capabilities,
    statuses: view.profiles.statuses,
    probeAll: view.profiles.probeAll,
  } satisfies Pool
})
