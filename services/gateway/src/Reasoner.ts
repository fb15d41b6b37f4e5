import { GeneratorPool, JudgePool, RequestId } from "@stagebeam/fleet"
import { type CallContext, type GrpcStatusError, serverStream, unary } from "@stagebeam/grpc"
import { judgeBothOrders, makeLlmJudge } from "@stagebeam/judge"
import type { ReasonEvent, ReasonResponse } from "@stagebeam/proto"
import { CandidateGenerator, Judge, runSearch, SearchEvents } from "@stagebeam/search"
import { Cause, Clock, Duration, Effect, Exit, Metric, Option, Queue, Random, Stream } from "effect"
import { Admission } from "./Admission.ts"
import { decodeReasonRequest, type JudgeChoice } from "./DecodeRequest.ts"
import { type GatewayError, toStatus } from "./ErrorStatus.ts"
import { DeadlinePassed, InvalidField } from "./GatewayErrors.ts"
import { reasonCalls, reasonDuration } from "./GatewayMetrics.ts"
import { GatewaySettings } from "./Settings.ts"
import { toProtoEvent, toProtoResponse } from "./ToProto.ts"

/** The answer must leave the gateway this long before the client's deadline, to reach it in time. */
const ANSWER_MARGIN_MS = 100
/** The search's own deadline is this share of the time left; the rest covers encoding and the network. */
const SEARCH_SHARE = 0.9

/** Counts a call by its outcome ("OK" or the status name; "CANCELLED" when the client went away) and times it. */
const measured =
  (method: string) =>
  <A, R>(call: Effect.Effect<A, GrpcStatusError, R>): Effect.Effect<A, GrpcStatusError, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (started) =>
      call.pipe(
        Effect.onExit((exit) =>
          Effect.gen(function* () {
            const outcome = Exit.isSuccess(exit)
              ? "OK"
              : Option.getOrElse(
                  Option.map(Cause.findErrorOption(exit.cause), (error) => error.statusName),
                  () => "CANCELLED",
                )
            yield* Metric.update(Metric.withAttributes(reasonCalls, { method, outcome }), 1)
            const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
            yield* Metric.update(Metric.withAttributes(reasonDuration, { method }), seconds)
          }),
        ),
      ),
    )

/** The Reasoner service: decode, admit, search over the fleet, answer. */
export const makeReasoner = Effect.gen(function* () {
  const settings = yield* GatewaySettings
  const admission = yield* Admission
  const generatorPool = yield* GeneratorPool
  const judgePool = yield* Effect.serviceOption(JudgePool)
  const generator = yield* CandidateGenerator

  const selfJudge = makeLlmJudge(generatorPool)
  const modelJudge = Option.map(judgePool, (pool) => makeLlmJudge(pool))

  /** The judge a request asked for, judging each match in both orders when it asked for that too. */
  const judgeFor = (choice: JudgeChoice): Effect.Effect<Judge["Service"], InvalidField> =>
    Effect.map(baseJudgeFor(choice), (judge) => (choice.bothOrders ? judgeBothOrders(judge) : judge))

  const baseJudgeFor = (choice: JudgeChoice): Effect.Effect<Judge["Service"], InvalidField> => {
    const kind = choice.kind === "default" ? settings.judge : choice.kind
    if (kind === "self") return Effect.succeed(selfJudge)
    if (Option.isNone(modelJudge)) {
      return Effect.fail(
        new InvalidField({
          field: "judge.kind",
          message: "JUDGE_MODEL asked for, but this gateway has no judge model (set STAGEBEAM_JUDGE_ENDPOINTS)",
        }),
      )
    }
    const judgeModel = settings.judgeModel || settings.model
    if (choice.kind === "model" && choice.name !== "" && choice.name !== judgeModel) {
      return Effect.fail(
        new InvalidField({
          field: "judge.name",
          message: `unknown judge "${choice.name}"; this gateway has "${judgeModel}"`,
        }),
      )
    }
    return Effect.succeed(modelJudge.value)
  }

  const decode = (message: unknown) =>
    decodeReasonRequest(message, {
      maxImageBytes: settings.maxImageBytes,
      imageFetchTimeout: settings.imageFetchTimeout,
    })

  /** When the answer must be sent (Clock millis): before the client's deadline, and within the default. */
  const answerBy = (ctx: CallContext) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const byDefault = now + Duration.toMillis(settings.defaultDeadline)
      return ctx.deadline === undefined ? byDefault : Math.min(ctx.deadline - ANSWER_MARGIN_MS, byDefault)
    })

  /** Checks the call before it waits for admission: a bad request is refused at once. */
  const prepare = (message: unknown, ctx: CallContext) =>
    Effect.gen(function* () {
      const deadlineAt = yield* answerBy(ctx)
      const command = yield* decode(message)
      const judge = yield* judgeFor(command.judge)
      return { command, judge, deadlineAt }
    })

  /**
   * Runs one admitted search; events go to `publish` as they happen. The time spent waiting for admission counts:
   * the search gets what is left of the call's time.
   */
  const search = (
    { command, judge, deadlineAt }: Effect.Success<ReturnType<typeof prepare>>,
    publish: (event: ReasonEvent) => Effect.Effect<void>,
  ) =>
    Effect.gen(function* () {
      const requestId = `rsn-${(yield* Random.nextInt).toString(36)}`
      const started = yield* Clock.currentTimeMillis
      const left = deadlineAt - started
      const deadlineMs = Math.max(1, Math.floor(left * SEARCH_SHARE))
      const result = yield* runSearch({ ...command.search, deadlineMs }).pipe(
        // The search bounds its own calls; this is the last resort that keeps the answer-by promise.
        Effect.timeoutOrElse({
          duration: Duration.millis(left),
          orElse: () => Effect.fail(new DeadlinePassed({ message: "the search did not finish in time" })),
        }),
        Effect.provideService(CandidateGenerator, generator),
        Effect.provideService(Judge, judge),
        // The final answer goes out as the stream's last event, `done`, built from the result.
        Effect.provideService(SearchEvents, {
          publish: (event) => (event._tag === "SearchFinished" ? Effect.void : publish(toProtoEvent(event))),
        }),
        Effect.provideService(RequestId, requestId),
        Effect.withSpan("Reasoner.search", { attributes: { requestId, strategy: command.search.strategy } }),
      )
      const elapsedMs = (yield* Clock.currentTimeMillis) - started
      return toProtoResponse(result, {
        includeStages: command.includeStages,
        includeTrace: command.includeTrace,
        elapsedMs,
      })
    })

  /** One call from request to answer: prepare, wait for admission, search. */
  const answer = (message: unknown, ctx: CallContext, publish: (event: ReasonEvent) => Effect.Effect<void>) =>
    Effect.flatMap(prepare(message, ctx), (prepared) =>
      admission.admit(search(prepared, publish), {
        // What a search occupies on the GPU servers at once: its N samples per call (GREEDY: one).
        sequences: prepared.command.search.strategy === "GREEDY" ? 1 : prepared.command.search.candidates,
        deadlineAt: prepared.deadlineAt,
      }),
    )

  const reason = (message: unknown, ctx: CallContext): Effect.Effect<ReasonResponse, GrpcStatusError> =>
    answer(message, ctx, () => Effect.void).pipe(
      Effect.mapError((error: GatewayError) => toStatus(error)),
      measured("Reason"),
    )

  const reasonStream = (message: unknown, ctx: CallContext): Stream.Stream<ReasonEvent, GrpcStatusError> =>
    Stream.callback<ReasonEvent, GrpcStatusError>((queue) =>
      answer(message, ctx, (event) => Effect.asVoid(Queue.offer(queue, event))).pipe(
        Effect.mapError((error: GatewayError) => toStatus(error)),
        measured("ReasonStream"),
        Effect.matchEffect({
          onFailure: (status) => Queue.fail(queue, status),
          onSuccess: (response) =>
            Effect.andThen(
              Queue.offer(queue, { atMs: response.elapsedMs ?? "0", done: { ...response, trace: [] } }),
              Queue.end(queue),
            ),
        }),
      ),
    )

  return {
    Reason: unary<unknown, ReasonResponse>(reason),
    ReasonStream: serverStream<unknown, ReasonEvent>(reasonStream),
  }
})
