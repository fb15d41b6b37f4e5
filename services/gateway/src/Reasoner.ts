import { Fleet, RequestId } from "@stagebeam/fleet"
import {
  type CallContext,
  type GrpcStatusError,
  type ServiceImplementation,
  serverStream,
  unary,
} from "@stagebeam/grpc"
import { Judges, judgeBothOrders } from "@stagebeam/judge"
import type { ReasonEvent, ReasonResponse } from "@stagebeam/proto"
import { CandidateGenerator, Judge, runSearch, SearchEvents, type SearchResult } from "@stagebeam/search"
import { Cause, Clock, Context, Duration, Effect, Exit, Layer, Option, Queue, Random, Stream } from "effect"
import { Admission, type Lease } from "./Admission.ts"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { GENERATOR_POOL } from "./config/Resolve.ts"
import { decodeReasonRequest, type JudgeChoice, type ReasonCommand } from "./DecodeRequest.ts"
import { type GatewayError, toStatus } from "./ErrorStatus.ts"
import { DeadlinePassed, InvalidField } from "./GatewayErrors.ts"
import { type ImageSource, Images } from "./images/Images.ts"
import { checkSupported } from "./StrategySupport.ts"
import { toProtoEvent, toProtoResponse } from "./ToProto.ts"

/** The answer must leave the gateway this long before the client's deadline, to reach it in time. */
const ANSWER_MARGIN_MS = 100
/** The search's own deadline is this share of the time left; the rest covers encoding and the network. */
const SEARCH_SHARE = 0.9

/** A client's request id is taken as it is when it looks like one: printable, short, no spaces. */
const REQUEST_ID = /^[A-Za-z0-9._:/-]{1,128}$/

/** What the access line tells of a call, filled in as the call gets that far. */
interface CallFacts {
  command?: ReasonCommand
  result?: SearchResult
}

/** One line per call, whatever its outcome: what was asked, what it cost, how it ended. */
const accessLine = (
  method: string,
  ctx: CallContext,
  exit: Exit.Exit<ReasonResponse, GrpcStatusError>,
  facts: CallFacts,
  durationMs: number,
) => {
  const search = facts.command?.search
  const usage = facts.result?.usage
  const failure = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
  const status = Exit.isSuccess(exit) ? "OK" : Option.isSome(failure) ? failure.value.statusName : "CANCELLED"
  return Effect.logInfo("call").pipe(
    Effect.annotateLogs({
      method,
      status,
      durationMs,
      peer: ctx.peer,
      ...(search === undefined ? {} : { strategy: search.strategy, candidates: search.candidates }),
      ...(usage === undefined
        ? {}
        : {
            generationCalls: usage.generationCalls,
            judgeCalls: usage.judgeCalls,
            promptTokens: usage.promptTokens,
            completionTokens: usage.completionTokens,
          }),
      ...(facts.result?.finishedEarly === undefined ? {} : { cutShort: facts.result.finishedEarly.reason }),
      ...(Option.isSome(failure) ? { error: failure.value.message } : {}),
    }),
  )
}

/** The stagebeam.v1.Reasoner methods: decode, admit, search over the fleet, answer. */
export class Reasoner extends Context.Service<Reasoner, { readonly implementation: ServiceImplementation }>()(
  "@stagebeam/gateway/Reasoner",
) {
  static readonly layer = Layer.effect(
    Reasoner,
    Effect.gen(function* () {
      const settings = yield* GatewaySettings
      const admission = yield* Admission
      const judges = yield* Judges
      const generator = yield* CandidateGenerator
      const images = yield* Images
      const generatorPool = yield* (yield* Fleet).pool(GENERATOR_POOL)

      /** The judge a request asked for, judging each match in both orders when it asked for that too. */
      const judgeFor = (choice: JudgeChoice): Effect.Effect<Judge["Service"], InvalidField> =>
        Effect.map(baseJudgeFor(choice), (judge) => (choice.bothOrders ? judgeBothOrders(judge) : judge))

      const baseJudgeFor = (choice: JudgeChoice): Effect.Effect<Judge["Service"], InvalidField> => {
        const name = choice.kind === "default" ? judges.defaultName : choice.kind
        const declared = judges.get(name)
        if (declared === undefined) {
          return Effect.fail(
            new InvalidField({
              field: "judge.kind",
              message: "JUDGE_MODEL asked for, but this gateway has no judge model (set STAGEBEAM_JUDGE_ENDPOINTS)",
            }),
          )
        }
        if (choice.kind === "model" && choice.name !== "" && choice.name !== declared.model) {
          return Effect.fail(
            new InvalidField({
              field: "judge.name",
              message: `unknown judge "${choice.name}"; this gateway has "${declared.model}"`,
            }),
          )
        }
        return Effect.succeed(declared.judge)
      }

      const decode = (message: unknown) => decodeReasonRequest(message, { maxImageBytes: settings.images.maxBytes })

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
          yield* checkSupported(generatorPool, {
            strategy: command.search.strategy,
            hasImage: command.image !== undefined,
            question: command.search.question,
            maxTokens: command.search.sampling.maxTokens,
          })
          const judge = yield* judgeFor(command.judge)
          return { command, judge, deadlineAt }
        })

      /**
       * The image as the GPU servers get it, fetched and checked now that the call is admitted; a fetched image's
       * bytes are held from now on (inline ones were counted at admission).
       */
      const prepareImage = (image: ImageSource | undefined, lease: Lease) =>
        image === undefined
          ? Effect.succeed(undefined)
          : Effect.flatMap(images.prepare(image), (ready) =>
              image.kind === "url"
                ? Effect.as(lease.holdBytes(ready.bytes), ready.dataUrl)
                : Effect.succeed(ready.dataUrl),
            )

      /**
       * Runs one admitted search; events go to `publish` as they happen. The time spent waiting for admission
       * counts: the search gets what is left of the call's time.
       */
      const search = (
        { command, judge, deadlineAt }: Effect.Success<ReturnType<typeof prepare>>,
        publish: (event: ReasonEvent) => Effect.Effect<void>,
        lease: Lease,
        facts: CallFacts,
      ) =>
        Effect.gen(function* () {
          const imageUrl = yield* prepareImage(command.image, lease)
          const started = yield* Clock.currentTimeMillis
          const left = deadlineAt - started
          const deadlineMs = Math.max(1, Math.floor(left * SEARCH_SHARE))
          const request = { ...command.search, ...(imageUrl === undefined ? {} : { imageUrl }), deadlineMs }
          const result = yield* runSearch(request).pipe(
            // The search bounds its own calls; this is the last resort that keeps the answer-by promise.
            Effect.timeoutOrElse({
              duration: Duration.millis(left),
              orElse: () => Effect.fail(new DeadlinePassed({ message: "the search did not finish in time" })),
            }),
            Effect.provideService(CandidateGenerator, generator),
            Effect.provideService(Judge, judge),
            // The final answer goes out as the stream's last event, `done`, built from the result.
            Effect.provideService(SearchEvents, {
              publish: (event) =>
                event._tag === "SearchFinished" ? Effect.void : publish(toProtoEvent(event, command.judge)),
            }),
            Effect.withSpan("Reasoner.search", { attributes: { strategy: command.search.strategy } }),
          )
          facts.result = result
          const elapsedMs = (yield* Clock.currentTimeMillis) - started
          return toProtoResponse(result, {
            includeStages: command.includeStages,
            includeTrace: command.includeTrace,
            bothOrders: command.judge.bothOrders,
            elapsedMs,
          })
        })

      /** What a call's image holds in memory while it waits: its bytes (a URL is fetched only once admitted). */
      const heldBytesOf = (image: ImageSource | undefined) => (image?.kind === "bytes" ? image.bytes.length : 0)

      /**
       * One call from request to answer: prepare, wait for admission, search; then one access line. The request id
       * is the client's `x-request-id` (or made here): sent back as a response header, on every log line of the
       * call, and as the prefix of the X-Request-Id of every upstream request.
       */
      const answer = (
        method: string,
        message: unknown,
        ctx: CallContext,
        publish: (event: ReasonEvent) => Effect.Effect<void>,
      ): Effect.Effect<ReasonResponse, GrpcStatusError> =>
        Effect.gen(function* () {
          const requestId = REQUEST_ID.test(ctx.metadata["x-request-id"] ?? "")
            ? ctx.metadata["x-request-id"]!
            : `rsn-${(yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)}`
          ctx.setHeader("x-request-id", requestId)
          const facts: CallFacts = {}
          const started = yield* Clock.currentTimeMillis
          return yield* admitted(message, ctx, publish, facts).pipe(
            Effect.mapError((error: GatewayError) => toStatus(error)),
            Effect.onExit((exit) =>
              Effect.flatMap(Clock.currentTimeMillis, (now) => accessLine(method, ctx, exit, facts, now - started)),
            ),
            Effect.provideService(RequestId, requestId),
            Effect.annotateLogs({ requestId }),
            Effect.withSpan(`Reasoner.${method}`, { attributes: { requestId } }),
          )
        })

      const admitted = (
        message: unknown,
        ctx: CallContext,
        publish: (event: ReasonEvent) => Effect.Effect<void>,
        facts: CallFacts,
      ) =>
        Effect.flatMap(prepare(message, ctx), (prepared) => {
          facts.command = prepared.command
          return admission.admit((lease) => search(prepared, publish, lease, facts), {
            // What a search occupies on the GPU servers at once: its N samples per call (GREEDY: one).
            sequences: prepared.command.search.strategy === "GREEDY" ? 1 : prepared.command.search.candidates,
            bytes: heldBytesOf(prepared.command.image),
            deadlineAt: prepared.deadlineAt,
          })
        })

      const reason = (message: unknown, ctx: CallContext): Effect.Effect<ReasonResponse, GrpcStatusError> =>
        answer("Reason", message, ctx, () => Effect.void)

      const reasonStream = (message: unknown, ctx: CallContext): Stream.Stream<ReasonEvent, GrpcStatusError> =>
        Stream.callback<ReasonEvent, GrpcStatusError>((queue) =>
          answer("ReasonStream", message, ctx, (event) => Effect.asVoid(Queue.offer(queue, event))).pipe(
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

      return Reasoner.of({
        implementation: {
          Reason: unary<unknown, ReasonResponse>(reason),
          ReasonStream: serverStream<unknown, ReasonEvent>(reasonStream),
        },
      })
    }),
  )
}
