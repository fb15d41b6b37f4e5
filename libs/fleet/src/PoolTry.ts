import { Clock, type Duration, Effect, Metric, Random, type Redacted } from "effect"
import type { CallTimes } from "./CallTimes.ts"
import { NoCapacity, type UpstreamError } from "./FleetError.ts"
import { callKind, upstreamCallsOf, upstreamDurationOf, upstreamRequestsOf } from "./FleetMetrics.ts"
import { boundedTryTimeoutUnsafe } from "./HangBound.ts"
import { isFresh } from "./LoadReports.ts"
import type { CallTarget } from "./OpenAiClient.ts"
import type { PoolView } from "./PoolView.ts"
import type { ServerProfile } from "./Probe.ts"
import { pickView, type RoutingOptions, SHORT_CALL_TOKENS } from "./Router.ts"
import { failureReason, noServerMessage } from "./Unavailability.ts"

export interface TryOptions {
  readonly pool: string
  readonly model: string
  readonly routing: RoutingOptions
  readonly apiKey: Effect.Effect<Redacted.Redacted<string> | undefined>
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

/**
 * One try of one call on the server routing picks, not one this call tried already (`tried` grows with it):
 * counted in flight, timed, its failure counted against the server. `completionTokens` is what the answer
 * generated per sequence (the pool's speed).
 */
export type Try = <A>(
  request: TryRequest,
  tried: Set<string>,
  call: (
    target: CallTarget,
    profile: ServerProfile | undefined,
    timeout: Duration.Duration,
  ) => Effect.Effect<A, UpstreamError>,
  completionTokens: (answer: A) => number,
) => Effect.Effect<{ readonly answer: A; readonly server: string }, UpstreamError | NoCapacity>

/** The try of a pool over its view of the servers and its call times. */
export const makeTry = (options: TryOptions, view: PoolView, times: CallTimes): Try => {
  let turn = 0

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

  // A try's own steps, each in one Effect step (a fiber's clock, random and context read directly): the dozen small
  // Effects they were made of were a share of the gateway's CPU per upstream call (issue #24).
  const begin = (tried: Set<string>) =>
    Effect.withFiber((fiber) => {
      const random = fiber.getRef(Random.Random)
      const draws = [random.nextDoubleUnsafe(), random.nextDoubleUnsafe()]
      return Effect.succeed({
        started: fiber.getRef(Clock.Clock).currentTimeMillisUnsafe(),
        random: () => draws.shift() ?? 0,
        turn: turn++,
        tried,
      })
    })

  const succeeded = (server: string, label: string, started: number, tokensPerSequence: number) =>
    Effect.withFiber((fiber) => {
      const ms = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe() - started
      upstreamRequestsOf(options.pool, server, "ok").updateUnsafe(1, fiber.context)
      upstreamCallsOf(options.pool, callKind(label), "ok").updateUnsafe(1, fiber.context)
      upstreamDurationOf(options.pool).updateUnsafe(ms / 1000, fiber.context)
      view.inFlight.recordLatencyUnsafe(server, ms)
      times.recordUnsafe(server, label, ms, tokensPerSequence)
      return view.membership.succeeded(server)
    })

  return (request, tried, call, completionTokens) =>
    Effect.gen(function* () {
      const { label } = request
      const { started, random, turn } = yield* begin(tried)
      const short = request.maxTokens <= SHORT_CALL_TOKENS
      const picked = pickView(
        yield* view.views(options.routing.slowStartMs),
        { tried, short, affinityKey: request.affinity, random, turn },
        options.routing,
      )
      if (picked === undefined) {
        const message = noServerMessage(options.pool, yield* view.snapshot, started, tried)
        return yield* new NoCapacity({ pool: options.pool, message })
      }
      const server = picked.url
      tried.add(server)
      const { profile } = picked
      const target = {
        pool: options.pool,
        server,
        model: options.model,
        apiKey: yield* options.apiKey,
        kind: profile?.kind,
      }
      const timeout = boundedTryTimeoutUnsafe(times, server, label, request.maxTokens, options.tryTimeoutFloor)
      const answer = yield* view.inFlight.track(server, request.sequences, call(target, profile, timeout), short).pipe(
        Effect.tapError((error) =>
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
          ]),
        ),
      )
      yield* succeeded(server, label, started, completionTokens(answer))
      return { answer, server }
    })
}
