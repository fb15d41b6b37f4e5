import { GeneratorPool, JudgePool, RequestId } from "@stagebeam/fleet"
import { type CallContext, GrpcStatusError, serverStream, unary } from "@stagebeam/grpc"
import { makeLlmJudge } from "@stagebeam/judge"
import type { ReasonEvent, ReasonResponse } from "@stagebeam/proto"
import { CandidateGenerator, Judge, runSearch, SearchEvents } from "@stagebeam/search"
import { Clock, Duration, Effect, Option, Queue, Random, Stream } from "effect"
import { Admission } from "./Admission.ts"
import { decodeReasonRequest, type JudgeChoice, type ReasonCommand } from "./DecodeRequest.ts"
import { type GatewayError, toStatus, type Unsupported } from "./ErrorStatus.ts"
import { GatewaySettings } from "./Settings.ts"
import { toProtoEvent, toProtoResponse } from "./ToProto.ts"

/**
 * Time kept back from the client's deadline so the answer (the best so far) still reaches it: the search may
 * overrun its own deadline by the one unjudged call that completes a cut-short answer.
 */
const DEADLINE_MARGIN_MS = 250
const DEADLINE_SHARE = 0.85

/** The Reasoner service: decode, admit, search over the fleet, answer. */
export const makeReasoner = Effect.gen(function* () {
  const settings = yield* GatewaySettings
  const admission = yield* Admission
  const generatorPool = yield* GeneratorPool
  const judgePool = yield* Effect.serviceOption(JudgePool)
  const generator = yield* CandidateGenerator

  const selfJudge = makeLlmJudge(generatorPool)
  const modelJudge = Option.map(judgePool, (pool) => makeLlmJudge(pool))

  const judgeFor = (choice: JudgeChoice): Effect.Effect<Judge["Service"], Unsupported> => {
    const kind = choice.kind === "default" ? settings.judge : choice.kind
    if (kind === "self") return Effect.succeed(selfJudge)
    if (Option.isNone(modelJudge)) {
      return Effect.fail({
        _tag: "Unsupported",
        field: "judge.kind",
        message: "JUDGE_MODEL asked for, but this gateway has no judge model (set STAGEBEAM_JUDGE_ENDPOINTS)",
      })
    }
    if (choice.kind === "model" && choice.name !== "" && choice.name !== settings.judgeModel) {
      return Effect.fail({
        _tag: "Unsupported",
        field: "judge.name",
        message: `unknown judge "${choice.name}"; this gateway has "${settings.judgeModel}"`,
      })
    }
    return Effect.succeed(modelJudge.value)
  }

  const decode = (message: unknown, ctx: CallContext) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const deadlineMs =
        ctx.deadline === undefined
          ? Duration.toMillis(settings.defaultDeadline)
          : Math.min(
              (ctx.deadline - now) * DEADLINE_SHARE - DEADLINE_MARGIN_MS,
              Duration.toMillis(settings.defaultDeadline),
            )
      return yield* decodeReasonRequest(message, { maxImageBytes: settings.maxImageBytes, deadlineMs })
    })

  /** Runs one admitted search; events go to `publish` as they happen. */
  const search = (command: ReasonCommand, publish: (event: ReasonEvent) => Effect.Effect<void>) =>
    Effect.gen(function* () {
      const judge = yield* judgeFor(command.judge)
      const requestId = `rsn-${(yield* Random.nextInt).toString(36)}`
      const started = yield* Clock.currentTimeMillis
      const result = yield* runSearch(command.search).pipe(
        Effect.provideService(CandidateGenerator, generator),
        Effect.provideService(Judge, judge),
        Effect.provideService(SearchEvents, { publish: (event) => publish(toProtoEvent(event)) }),
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

  const reason = (message: unknown, ctx: CallContext): Effect.Effect<ReasonResponse, GrpcStatusError> =>
    decode(message, ctx).pipe(
      Effect.flatMap((command) => admission.admit(search(command, () => Effect.void))),
      Effect.mapError((error: GatewayError) => toStatus(error)),
    )

  const reasonStream = (message: unknown, ctx: CallContext): Stream.Stream<ReasonEvent, GrpcStatusError> =>
    Stream.callback<ReasonEvent, GrpcStatusError>((queue) =>
      decode(message, ctx).pipe(
        Effect.flatMap((command) =>
          admission.admit(search(command, (event) => Effect.asVoid(Queue.offer(queue, event)))),
        ),
        Effect.matchEffect({
          onFailure: (error: GatewayError) => Queue.fail(queue, toStatus(error)),
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

export { GrpcStatusError }
