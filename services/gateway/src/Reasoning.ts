import { Fleet, RequestId } from "@stagebeam/fleet"
import { type DeclaredJudge, Judges, withJudgeMetrics } from "@stagebeam/judge"
import {
  CandidateGenerator,
  FleetCapacity,
  Judge,
  resolveSchedule,
  runSearch,
  ScheduleDefaults,
  type SearchEvent,
  SearchEvents,
  type SearchRequest,
  type SearchResult,
  type Speculation,
} from "@stagebeam/search"
import { Cause, Clock, Context, Duration, Effect, Exit, Layer, Metric, Option, Queue, Random, Stream } from "effect"
import { Admission, type Lease } from "./Admission.ts"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { GENERATOR_POOL, maxSamplesPerRequestOf } from "./config/Resolve.ts"
import type { JudgeChoice, ReasonCommand } from "./DecodeRequest.ts"
import { runDeviations } from "./Deviations.ts"
import { Drain } from "./Drain.ts"
import { type GatewayError, toStatus } from "./ErrorStatus.ts"
import { DeadlinePassed, type InvalidField, invalidField } from "./GatewayErrors.ts"
import { Images, type InspectedImage } from "./images/Images.ts"
import { fleetCapacityOf } from "./SearchCapacity.ts"
import { admissionWait, recordSearch } from "./SearchMetrics.ts"
import { checkSupported } from "./StrategySupport.ts"

/** The answer must leave the gateway this long before the client's deadline, to reach it in time. */
const ANSWER_MARGIN_MS = 100
/** The search's own deadline is this share of the time left; the rest covers encoding and the network. */
const SEARCH_SHARE = 0.9

/** A client's request id is taken as it is when it looks like one: printable, short, no spaces. */
const REQUEST_ID = /^[A-Za-z0-9._:/-]{1,128}$/

/** What a front door (gRPC, HTTP) tells of the call it hands over. */
export interface CallInfo {
  /** The method as metrics, logs and spans name it: "Reason", "ReasonStream", "ChatCompletions", … */
  readonly method: string
  readonly transport: "grpc" | "http"
  readonly peer: string
  /** The client's absolute deadline (epoch ms), if it set one. */
  readonly deadline: number | undefined
  /** The client's `x-request-id`, as sent (taken only when it looks like one). */
  readonly requestId: string | undefined
  /** Sets a response header. */
  readonly setHeader: (key: string, value: string) => void
  /** The name of the bearer token that admitted the call; undefined when the gateway asks for none. */
  readonly caller: string | undefined
}

/** The judge a call ran with, as its answer and events name it. */
export interface JudgedBy {
  /** Its declared name. */
  readonly judge: string
  readonly judging: "pairwise" | "pointwise"
  /** How the run differs from the reference's beyond the selection rules (runDeviations). */
  readonly deviations?: ReadonlyArray<string>
}

/** A call that found its answer: what was asked, what the search returned, how long it took, who judged. */
export interface Answered {
  readonly command: ReasonCommand
  readonly result: SearchResult
  readonly elapsedMs: number
  readonly judgedBy: JudgedBy
}

/** What a streaming call sees: each search event as it happens, then the answer. */
export type ReasonUpdate =
  | { readonly _tag: "Event"; readonly event: SearchEvent; readonly judgedBy: JudgedBy }
  | { readonly _tag: "Answered"; readonly answered: Answered }

/** What the access line tells of a call, filled in as the call gets that far. */
interface CallFacts {
  command?: ReasonCommand
  result?: SearchResult
  /** Clock millis when it started waiting for admission. */
  queuedAt?: number
}

/** What a search occupies on the GPU servers at once: its N samples per call (GREEDY: one). */
const sequencesOf = (command: ReasonCommand) => (command.search.strategy === "GREEDY" ? 1 : command.search.candidates)

/** One line per call, whatever its outcome: what was asked, what it cost, how it ended. */
const accessLine = (call: CallInfo, exit: Exit.Exit<Answered, GatewayError>, facts: CallFacts, durationMs: number) => {
  const search = facts.command?.search
  const usage = facts.result?.usage
  const failure = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
  const died = Exit.isFailure(exit) && Cause.hasDies(exit.cause)
  const status = Exit.isSuccess(exit)
    ? "OK"
    : Option.isSome(failure)
      ? toStatus(failure.value).statusName
      : died
        ? "INTERNAL"
        : "CANCELLED"
  // A defect is a bug: its cause goes to the log (with the call's request id), never to the caller.
  const defect =
    died && Exit.isFailure(exit)
      ? Effect.logError("internal error").pipe(Effect.annotateLogs({ cause: Cause.pretty(exit.cause) }))
      : Effect.void
  return Effect.andThen(defect, Effect.logInfo("call")).pipe(
    Effect.annotateLogs({
      method: call.method,
      transport: call.transport,
      status,
      durationMs,
      peer: call.peer,
      ...(search === undefined ? {} : { strategy: search.strategy, candidates: search.candidates }),
      ...(usage === undefined
        ? {}
        : {
            generationCalls: usage.generationCalls,
            judgeCalls: usage.judgeCalls,
            promptTokens: usage.promptTokens,
            completionTokens: usage.completionTokens,
          }),
      ...(facts.result?.cutShort === undefined ? {} : { cutShort: facts.result.cutShort.reason }),
      ...(Option.isSome(failure) ? { error: failure.value.message } : {}),
    }),
  )
}

/** Counts a judged match for its judge (Prometheus): how it was decided, a re-ask, a swapped order. */
type Publish = (event: SearchEvent, judgedBy: JudgedBy) => Effect.Effect<void>

/**
 * One Reason call from request to answer, whatever door it came in by: decode, check, admit, prepare the image,
 * search over the fleet, with the call's deadline, request id, access line and span. The gRPC handlers
 * (Reasoner.ts) and the HTTP routes (http/) only translate requests, answers and errors.
 */
export class Reasoning extends Context.Service<
  Reasoning,
  {
    /** Runs the call; `decode` turns the door's request into a command (its errors name the door's fields). */
    readonly run: (
      call: CallInfo,
      decode: Effect.Effect<ReasonCommand, InvalidField>,
      publish?: Publish,
    ) => Effect.Effect<Answered, GatewayError>
    /** The same call as a stream of its events, ending with the answer. */
    readonly stream: (
      call: CallInfo,
      decode: Effect.Effect<ReasonCommand, InvalidField>,
    ) => Stream.Stream<ReasonUpdate, GatewayError>
    /** The model the generator pool serves (what `/v1/models` lists). */
    readonly model: string
  }
>()("@stagebeam/gateway/Reasoning") {
  static readonly layer = Layer.effect(
    Reasoning,
    Effect.gen(function* () {
      const settings = yield* GatewaySettings
      const admission = yield* Admission
      const drain = yield* Drain
      const judges = yield* Judges
      const generator = yield* CandidateGenerator
      const images = yield* Images
      const generatorPool = yield* (yield* Fleet).pool(GENERATOR_POOL)
      const capacity = fleetCapacityOf(
        generatorPool,
        Effect.map(admission.load, (load) => load.waiting),
        maxSamplesPerRequestOf(settings, GENERATOR_POOL),
        settings.search.speculationReserve,
      )
      // The search resolves each request's schedule against these once (ScheduleOptions.ts).
      const scheduleDefaults: ScheduleDefaults = {
        speculation: settings.search.speculation.toUpperCase() as Speculation,
        speculationWidth: settings.search.speculationWidth,
        stragglers: settings.search.stragglers,
      }

      const declaredNames = () => judges.all.map((declared) => declared.name).join(", ")

      /**
       * The judge a request asked for: by name (with JUDGE_MODEL also the judge model's name, as before), else by
       * the old selector (SELF → "self", MODEL → "model"), else the default.
       */
      const judgeFor = (choice: JudgeChoice): Effect.Effect<DeclaredJudge, InvalidField> => {
        if (choice.name !== "") {
          const byModel = choice.kind === "model" ? judges.get("model") : undefined
          const declared = judges.get(choice.name) ?? (byModel?.model === choice.name ? byModel : undefined)
          return declared === undefined
            ? Effect.fail(
                invalidField(
                  ["judge", "name"],
                  `unknown judge "${choice.name}"; this gateway declares: ${declaredNames()}`,
                ),
              )
            : Effect.succeed(declared)
        }
        const name = choice.kind === "default" ? judges.defaultName : choice.kind
        const declared = judges.get(name)
        return declared === undefined
          ? Effect.fail(
              invalidField(
                ["judge", "kind"],
                `${choice.kind === "self" ? "JUDGE_SELF" : "JUDGE_MODEL"} asks for the judge "${name}", which this gateway does not declare (declared: ${declaredNames()}; pick one with judge.name)`,
              ),
            )
          : Effect.succeed(declared)
      }

      /**
       * Refuses a request its judge cannot serve: SWIRES needs a pointwise one. (The verdict mode is the search's
       * choice, from what the judge can do: the selection says what ran.)
       */
      const checkJudge = Effect.fnUntraced(function* (search: SearchRequest, declared: DeclaredJudge) {
        if (search.strategy === "SWIRES" && declared.judging !== "pointwise") {
          const pointwise = judges.all.filter((judge) => judge.judging === "pointwise").map((judge) => judge.name)
          return yield* invalidField(
            ["judge", "name"],
            `STRATEGY_SWIRES scores candidates one by one: the judge "${declared.name}" is pairwise; pick a ` +
              `pointwise judge (${pointwise.length === 0 ? "this gateway declares none" : `declared: ${pointwise.join(", ")}`})`,
          )
        }
      })

      /**
       * When the answer must be sent (Clock millis): before the client's deadline and the one the request asked
       * for, and within the default.
       */
      const answerBy = (call: CallInfo, command: ReasonCommand, now: number) => {
        const byDefault = now + Duration.toMillis(settings.defaultDeadline)
        const asked = command.deadlineMs === undefined ? byDefault : now + command.deadlineMs
        const client = call.deadline === undefined ? byDefault : call.deadline - ANSWER_MARGIN_MS
        return Math.min(byDefault, asked, client)
      }

      /** Checks the call before it waits for admission: a bad request is refused at once. */
      const prepare = Effect.fnUntraced(function* (call: CallInfo, decode: Effect.Effect<ReasonCommand, InvalidField>) {
        const now = yield* Clock.currentTimeMillis
        const command = yield* decode
        yield* checkSupported(generatorPool, {
          strategy: command.search.strategy,
          hasImage: command.image !== undefined,
          question: command.search.question,
          maxTokens: command.search.sampling.maxTokens,
        })
        const judge = yield* judgeFor(command.judge)
        yield* checkJudge(command.search, judge)
        return { command, judge, deadlineAt: answerBy(call, command, now), caller: call.caller }
      })

      /**
       * Runs one admitted search; events go to `publish` as they happen. The time spent waiting for admission
       * counts: the search gets what is left of the call's time.
       */
      const search = Effect.fnUntraced(function* (
        { command, judge, deadlineAt, caller }: Effect.Success<ReturnType<typeof prepare>>,
        image: InspectedImage,
        publish: Publish,
        lease: Lease,
        facts: CallFacts,
      ) {
        if (facts.queuedAt !== undefined) {
          const waited = ((yield* Clock.currentTimeMillis) - facts.queuedAt) / 1000
          yield* Metric.update(admissionWait, waited)
        }
        // The image as the GPU servers get it, fetched and checked now that the call is admitted.
        const prepared = command.image === undefined ? undefined : yield* image.prepare(lease)
        const imageUrl = prepared?.url
        const judgedBy: JudgedBy = {
          judge: judge.name,
          judging: judge.judging,
          deviations: runDeviations({
            stragglers: resolveSchedule(command.search, scheduleDefaults).stragglers,
            judge,
            sampling: command.search.sampling,
            prescaled: prepared?.prescaled ?? false,
          }),
        }
        const started = yield* Clock.currentTimeMillis
        const left = deadlineAt - started
        const deadlineMs = Math.max(1, Math.floor(left * SEARCH_SHARE))
        const request = {
          ...command.search,
          ...(imageUrl === undefined ? {} : { imageUrl }),
          deadlineMs,
        }
        const result = yield* runSearch(request).pipe(
          // The search bounds its own calls; this is the last resort that keeps the answer-by promise.
          Effect.timeoutOrElse({
            duration: Duration.millis(left),
            orElse: () => Effect.fail(new DeadlinePassed({ message: "the search did not finish in time" })),
          }),
          Effect.provideService(CandidateGenerator, generator),
          Effect.provideService(Judge, judge.judge),
          Effect.provideService(FleetCapacity, capacity),
          Effect.provideService(ScheduleDefaults, scheduleDefaults),
          // The final answer is the call's result, not an event.
          Effect.provideService(
            SearchEvents,
            withJudgeMetrics(judge.name, {
              publish: (event) => (event._tag === "SearchFinished" ? Effect.void : publish(event, judgedBy)),
            }),
          ),
          Effect.withSpan("Reasoner.search", { attributes: { strategy: command.search.strategy } }),
        )
        facts.result = result
        const elapsedMs = (yield* Clock.currentTimeMillis) - started
        yield* recordSearch({
          strategy: command.search.strategy,
          candidates: command.search.candidates,
          judge: judge.name,
          caller,
          sequences: sequencesOf(command),
          elapsedMs,
          result,
        })
        return { command, result, elapsedMs, judgedBy } satisfies Answered
      })

      const admitted = (
        call: CallInfo,
        decode: Effect.Effect<ReasonCommand, InvalidField>,
        publish: Publish,
        facts: CallFacts,
      ) =>
        Effect.flatMap(prepare(call, decode), (prepared) => {
          facts.command = prepared.command
          // Its header is read before admission: what it holds while it waits is what it costs decoded.
          return Effect.flatMap(images.inspect(prepared.command.image), (image) =>
            Effect.flatMap(Clock.currentTimeMillis, (queuedAt) => {
              facts.queuedAt = queuedAt
              return admission.admit((lease) => search(prepared, image, publish, lease, facts), {
                sequences: sequencesOf(prepared.command),
                bytes: image.heldBytes,
                deadlineAt: prepared.deadlineAt,
              })
            }),
          )
        })

      /**
       * One call from request to answer, then one access line. The request id is the client's `x-request-id` (or
       * made here): sent back as a response header, on every log line of the call, and as the prefix of the
       * X-Request-Id of every upstream request.
       */
      const run: (
        call: CallInfo,
        decode: Effect.Effect<ReasonCommand, InvalidField>,
        publish?: Publish,
      ) => Effect.Effect<Answered, GatewayError> = Effect.fnUntraced(function* (
        call: CallInfo,
        decode: Effect.Effect<ReasonCommand, InvalidField>,
        publish: Publish = () => Effect.void,
      ) {
        const requestId = REQUEST_ID.test(call.requestId ?? "")
          ? call.requestId!
          : `rsn-${(yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)}`
        call.setHeader("x-request-id", requestId)
        const facts: CallFacts = {}
        const started = yield* Clock.currentTimeMillis
        return yield* drain.track(admitted(call, decode, publish, facts)).pipe(
          Effect.onExit((exit) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => accessLine(call, exit, facts, now - started)),
          ),
          Effect.provideService(RequestId, requestId),
          Effect.annotateLogs({ requestId }),
          Effect.withSpan(`Reasoner.${call.method}`, { attributes: { requestId, transport: call.transport } }),
        )
      })

      const stream = (
        call: CallInfo,
        decode: Effect.Effect<ReasonCommand, InvalidField>,
      ): Stream.Stream<ReasonUpdate, GatewayError> =>
        Stream.callback<ReasonUpdate, GatewayError>((queue) =>
          run(call, decode, (event, judgedBy) =>
            Effect.asVoid(Queue.offer(queue, { _tag: "Event", event, judgedBy })),
          ).pipe(
            Effect.matchCauseEffect({
              // A defect too ends the stream as one (the door answers it as an internal error).
              onFailure: (cause) => Queue.failCause(queue, cause),
              onSuccess: (answered) =>
                Effect.andThen(Queue.offer(queue, { _tag: "Answered", answered }), Queue.end(queue)),
            }),
          ),
        )

      return Reasoning.of({ run, stream, model: generatorPool.model })
    }),
  )
}
