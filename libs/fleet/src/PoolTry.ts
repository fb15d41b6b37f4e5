import { Cause, Clock, type Duration, Effect, type Fiber, Metric, Random, type Redacted, Result } from "effect"
import type { CallTimes } from "./CallTimes.ts"
import { NoCapacity, type UpstreamError } from "./FleetError.ts"
import { callKind, upstreamCallsOf, upstreamDurationOf, upstreamRequestsOf } from "./FleetMetrics.ts"
import { boundedTryTimeoutUnsafe } from "./HangBound.ts"
import { isFresh } from "./LoadReports.ts"
import type { CallTarget } from "./OpenAiClient.ts"
import type { PoolView } from "./PoolView.ts"
import type { ServerProfile } from "./Probe.ts"
import { pickView, type RoutingOptions, SHORT_CALL_TOKENS } from "./Router.ts"
import type { EndpointView } from "./Routing.ts"
import { failureReason, noServerMessage } from "./Unavailability.ts"

export interface TryOptions {
  readonly pool: string
  readonly model: string
  readonly routing: RoutingOptions
  readonly apiKey: Effect.Effect<Redacted.Redacted<string> | undefined>
  /** `apiKey` as a plain read where it is one (PoolKey.currentUnsafe). */
  readonly apiKeyUnsafe?: (() => Redacted.Redacted<string> | undefined) | undefined
  readonly tryTimeoutFloor: Duration.Duration
}

/** What one try is: what it is for, and what it occupies and may generate on its server. */
export interface TryRequest {
  /** What the call is for: part of its metrics, and of its timeout's history. */
  readonly label: string
  /** Calls sharing a prompt prefix share this key (routing's affinity). */
  readonly affinity?: string | undefined
  /** Sequences it occupies on its server. */
  readonly sequences: number
  /** The most it may generate (its timeout; at most SHORT_CALL_TOKENS makes it a short call). */
  readonly maxTokens: number
}

/** What a try sends to the server it picks. */
export type TryCall<A> = (
  target: CallTarget,
  profile: ServerProfile | undefined,
  timeout: Duration.Duration,
) => Effect.Effect<A, UpstreamError>

/**
 * One try of one call on the server routing picks, not one this call tried already (`tried` grows with it):
 * counted in flight, timed, its failure counted against the server. `completionTokens` is what the answer
 * generated per sequence (the pool's speed); `result` is what the try gives for the answer and its server.
 */
export type Try = <A, R>(
  request: TryRequest,
  tried: Set<string>,
  call: TryCall<A>,
  completionTokens: (answer: A) => number,
  result: (answer: A, server: string) => R,
) => Effect.Effect<R, UpstreamError | NoCapacity>

/** The series a try updates, made once per server and per label (issue #24: found again by one lookup). */
interface LabelSeries {
  readonly ok: Metric.Counter<number>
}

/** The try of a pool over its view of the servers and its call times. */
export const makeTry = (options: TryOptions, view: PoolView, times: CallTimes): Try => {
  let turn = 0
  const apiKeyUnsafe = options.apiKeyUnsafe
  const duration = upstreamDurationOf(options.pool)
  const okOn = new Map<string, Metric.Counter<number>>()
  const okOf = (server: string) => {
    let counter = okOn.get(server)
    if (counter === undefined) {
      counter = upstreamRequestsOf(options.pool, server, "ok")
      okOn.set(server, counter)
    }
    return counter
  }
  const byLabel = new Map<string, LabelSeries>()
  const labelSeriesOf = (label: string) => {
    let series = byLabel.get(label)
    if (series === undefined) {
      series = { ok: upstreamCallsOf(options.pool, callKind(label), "ok") }
      byLabel.set(label, series)
    }
    return series
  }

  const count = (server: string, outcome: string, label: string) =>
    Effect.andThen(
      Metric.update(upstreamRequestsOf(options.pool, server, outcome), 1),
      Metric.update(upstreamCallsOf(options.pool, callKind(label), outcome), 1),
    )

  // A timeout from a server whose fresh /metrics shows requests waiting is a long queue, not a hang: vLLM queues
  // without limit, so taking it out of rotation would only pile its load onto the others. Without a queue it is a
  // hang, and counts against the server.
  const countAgainst = (server: string, error: UpstreamError) =>
    Effect.gen(function* () {
      if (!error.retryable) return
      if (error.kind === "timeout") {
        const report = (yield* view.reports.latest).get(server)
        if (isFresh(report, yield* Clock.currentTimeMillis) && report.load.waiting > 0) return
      }
      yield* view.membership.failed(server, failureReason(error.kind, error.message))
    })

  const failed = (server: string, label: string, error: UpstreamError) =>
    Effect.all([
      countAgainst(server, error),
      count(server, error.kind, label),
      Effect.logWarning(error.retryable ? "upstream call failed; failing over" : "upstream call refused").pipe(
        Effect.annotateLogs({
          pool: options.pool,
          server,
          kind: error.kind,
          ...(error.status === undefined ? {} : { status: error.status }),
          error: error.message,
        }),
      ),
    ])

  // A try is one Effect step that picks the server (the fiber's clock, random and context read directly, the pool's
  // view read as plain state), one that counts the call in flight, the call, and one exit handler that releases it
  // and does the bookkeeping of its outcome: the dozens of small Effects, the generator and the acquire/use/release
  // they were made of were a share of the gateway's CPU per upstream call (issue #24).
  return <A, R>(
    request: TryRequest,
    tried: Set<string>,
    call: TryCall<A>,
    completionTokens: (answer: A) => number,
    result: (answer: A, server: string) => R,
  ): Effect.Effect<R, UpstreamError | NoCapacity> => {
    const { label, sequences } = request
    const short = request.maxTokens <= SHORT_CALL_TOKENS

    /** Sends the call to `picked`, counted in flight until it ends. */
    const send = (
      fiber: Fiber.Fiber<unknown, unknown>,
      started: number,
      picked: EndpointView,
      apiKey: Redacted.Redacted<string> | undefined,
    ) => {
      const server = picked.url
      const { profile } = picked
      const target = { pool: options.pool, server, model: options.model, apiKey, kind: profile?.kind }
      const timeout = boundedTryTimeoutUnsafe(times, server, label, request.maxTokens, options.tryTimeoutFloor)
      const sent = call(target, profile, timeout)
      // Counted once its exit handler is in place, so however the try ends (interrupted at a yield before the call
      // even started included) a count is released exactly when it was taken.
      let counted = false
      const counting = Effect.suspend(() => {
        counted = true
        view.inFlight.addUnsafe(server, sequences, short)
        return sent
      })
      const ended = Effect.onExit(counting, (exit) => {
        if (counted) view.inFlight.releaseUnsafe(server, sequences, short)
        if (exit._tag === "Success") {
          const ms = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe() - started
          const context = fiber.context
          okOf(server).updateUnsafe(1, context)
          labelSeriesOf(label).ok.updateUnsafe(1, context)
          duration.updateUnsafe(ms / 1000, context)
          view.inFlight.recordLatencyUnsafe(server, ms)
          times.recordUnsafe(server, label, ms, completionTokens(exit.value))
          return view.membership.succeededUnsafe(server) ?? Effect.void
        }
        const error = Cause.findError(exit.cause)
        return Result.isSuccess(error) ? failed(server, label, error.success) : Effect.void
      })
      return Effect.map(ended, (answer) => result(answer, server))
    }

    /** Picks among `views`; sends the call there, or fails with NoCapacity naming why no server can take it. */
    const pick = (
      fiber: Fiber.Fiber<unknown, unknown>,
      started: number,
      draws: Array<number>,
      turnNow: number,
      views: ReadonlyArray<EndpointView>,
    ): Effect.Effect<R, UpstreamError | NoCapacity> => {
      const random = () => draws.shift() ?? 0
      const picked = pickView(
        views,
        { tried, short, affinityKey: request.affinity, random, turn: turnNow },
        options.routing,
      )
      if (picked === undefined) {
        return Effect.flatMap(view.snapshot, (states) =>
          Effect.fail(
            new NoCapacity({ pool: options.pool, message: noServerMessage(options.pool, states, started, tried) }),
          ),
        )
      }
      tried.add(picked.url)
      return apiKeyUnsafe === undefined
        ? Effect.flatMap(options.apiKey, (apiKey) => send(fiber, started, picked, apiKey))
        : send(fiber, started, picked, apiKeyUnsafe())
    }

    return Effect.withFiber((fiber) => {
      const started = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
      const randomness = fiber.getRef(Random.Random)
      const draws = [randomness.nextDoubleUnsafe(), randomness.nextDoubleUnsafe()]
      const turnNow = turn++
      const views = view.viewsUnsafe(options.routing.slowStartMs, started)
      // After an idle spell the pick waits for a round of load reports first.
      return views === undefined
        ? Effect.flatMap(view.views(options.routing.slowStartMs), (waited) =>
            pick(fiber, started, draws, turnNow, waited),
          )
        : pick(fiber, started, draws, turnNow, views)
    })
  }
}
