import { randomUUID } from "node:crypto"
import { NodeHttpServer } from "@effect/platform-node"
import type { Fleet } from "@stagebeam/fleet"
import type { TokenGate } from "@stagebeam/grpc"
import { Judges } from "@stagebeam/judge"
import { type DescribeResponse, snakeCase, toWire } from "@stagebeam/proto"
import { Cause, Clock, Context, Effect, Layer, Metric, Option, Schedule, type Scope, Sink, Stream } from "effect"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { Authentication } from "../Authentication.ts"
import { GatewaySettings } from "../config/GatewaySettings.ts"
import { tlsOf } from "../config/Resolve.ts"
import { describeGateway } from "../Description.ts"
import { Drain } from "../Drain.ts"
import type { GatewayError } from "../ErrorStatus.ts"
import { freeBlocks } from "../FreeBytes.ts"
import { invalidField } from "../GatewayErrors.ts"
import { reasonCalls, reasonDuration } from "../GatewayMetrics.ts"
import { Health } from "../Health.ts"
import { authFailure, type HttpFailure, outcomeOf, toHttpFailure } from "../HttpErrorStatus.ts"
import { listJudges } from "../JudgeListing.ts"
import { type Answered, type CallInfo, Reasoning, type ReasonUpdate } from "../Reasoning.ts"
import { REQUEST_BOUNDS } from "../RequestBounds.ts"
import type { FieldRef } from "../RequestPath.ts"
import { toProtoDone, toProtoEvent } from "../ToProto.ts"
import { browserGuard } from "./BrowserGuard.ts"
import { chatField, FIRST_MESSAGE } from "./ChatFields.ts"
import { type ChatCommand, decodeChatRequest } from "./ChatRequest.ts"
import { completionOf, makeChunker } from "./ChatResponse.ts"
import { healthRoutes } from "./HealthRoutes.ts"
import { parseJsonBody } from "./JsonBody.ts"
import { makeNodeServer } from "./NodeServer.ts"
import { pageRoutes } from "./Page.ts"
import { readBody } from "./RequestBody.ts"

/** Room in a request body beyond its image's base64 (4/3 of the bytes): the question and the options. */
const BODY_OVERHEAD = 1024 * 1024

const encoder = new TextEncoder()
/** One server-sent event. */
const sse = (data: unknown, event?: string) =>
  encoder.encode(`${event === undefined ? "" : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`)
const SSE_DONE = encoder.encode("data: [DONE]\n\n")
/**
 * A comment line every 10 s while a stream is open: a stage can be searched for minutes without an event, and proxies
 * and load balancers close connections idle for 30–60 s. Clients skip comments (the SSE format; the openai Node
 * SDK 7.59's core/streaming.js drops lines starting with ":"; the Python SDK's SSEDecoder.decode too, and a blank
 * line with no field before it yields no event: src/openai/_streaming.py at v1.35.0).
 */
const KEEP_ALIVE = encoder.encode(": keep-alive\n\n")
const KEEP_ALIVE_EVERY = "10 seconds"
const withKeepAlive = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  Stream.merge(stream, Stream.fromSchedule(Schedule.spaced(KEEP_ALIVE_EVERY)).pipe(Stream.as(KEEP_ALIVE)), {
    haltStrategy: "left",
  })
const SSE_HEADERS = { "cache-control": "no-cache", "x-accel-buffering": "no" }

const failureResponse = (failure: HttpFailure, headers: ReadonlyMap<string, string>) =>
  HttpServerResponse.jsonUnsafe(failure.body, {
    status: failure.status,
    headers: { ...Object.fromEntries(headers), ...failure.headers },
  })

/** The event name of a ReasonEvent (its one set field, in snake_case as its key is), as the page's stream names it. */
const eventNameOf = (event: object) => snakeCase(Object.keys(event).find((key) => key !== "atMs") ?? "event")

/**
 * The HTTP door: OpenAI's chat completions (`POST /v1/chat/completions`, streaming or not) and model list
 * (`GET /v1/models`), the search's events as server-sent events (`POST /v1/search/events`, the same body), and the
 * page that draws a search (`GET /`). Every call goes the Reasoning path as gRPC calls do (admission, deadlines,
 * access line), with the same bearer tokens and call metrics; a client that goes away cancels its search.
 */
export class HttpGateway extends Context.Service<HttpGateway, { readonly url: string | undefined }>()(
  "@stagebeam/gateway/HttpGateway",
) {
  static readonly layer = Layer.unwrap(
    Effect.gen(function* () {
      const settings = yield* GatewaySettings
      if (!settings.http.enabled) return Layer.succeed(HttpGateway, HttpGateway.of({ url: undefined }))
      const reasoning = yield* Reasoning
      const judges = yield* Judges
      const health = yield* Health
      const drain = yield* Drain
      const fleetContext = yield* Effect.context<Fleet>()
      const { gate } = yield* Authentication
      const tls = tlsOf(settings)
      const server = yield* makeNodeServer(tls)
      const maxBodyBytes = Math.ceil((settings.images.maxBytes * 4) / 3) + BODY_OVERHEAD
      const models = [reasoning.model]

      const serving = HttpRouter.serve(
        Layer.mergeAll(
          routesLayer({
            reasoning,
            judges,
            gate,
            models,
            maxBodyBytes,
            maxImageBytes: settings.images.maxBytes,
            health,
            draining: drain.draining,
            describe: Effect.provide(describeGateway, fleetContext),
          }),
          browserGuard(settings.http.allowedHosts),
        ),
        {
          disableLogger: true,
          disableListenLog: true,
        },
      ).pipe(
        Layer.provideMerge(
          NodeHttpServer.layer(() => server, {
            host: settings.http.host,
            port: settings.http.port,
            gracefulShutdownTimeout: settings.drainTimeout,
          }),
        ),
      )
      const url = Layer.effect(
        HttpGateway,
        Effect.gen(function* () {
          const { address } = yield* HttpServer.HttpServer
          const port = "port" in address ? address.port : settings.http.port
          const host = settings.http.host
          const dial = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host
          return HttpGateway.of({ url: `${tls === undefined ? "http" : "https"}://${dial}:${port}` })
        }),
      )
      return url.pipe(Layer.provide(serving))
    }),
  )
}

interface RouteOptions {
  readonly reasoning: Reasoning["Service"]
  readonly judges: Judges["Service"]
  readonly gate: TokenGate | undefined
  readonly models: ReadonlyArray<string>
  readonly maxBodyBytes: number
  readonly maxImageBytes: number
  readonly health: Health["Service"]
  /** Whether the gateway is draining: /ready and /health say NOT_SERVING from then on. */
  readonly draining: Drain["Service"]["draining"]
  /** What this gateway is and what serves behind it (Describe): the page's "simulated" badge. */
  readonly describe: Effect.Effect<DescribeResponse>
}

/**
 * One call's count and time. Hot-path generators are made once, here at module level, never per call: each generator
 * function a call makes gets its own map in V8's old generation, which keeps the call's objects through every young
 * collection until a mark-compact (bench/README.md, "Why a photo's Buffers wait for a mark-compact").
 */
const recordCall = Effect.fnUntraced(function* (method: string, outcome: string, started: number) {
  yield* Metric.update(Metric.withAttributes(reasonCalls, { method, outcome }), 1)
  const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
  yield* Metric.update(Metric.withAttributes(reasonDuration, { method }), seconds)
})

/** Counts and times one call under `method`, once, as the gRPC door's call metrics do. */
const makeMeter = (method: string, started: number) => {
  let recorded = false
  return (outcome: string) =>
    Effect.suspend(() => {
      if (recorded) return Effect.void
      recorded = true
      return recordCall(method, outcome, started)
    })
}

/** The body of a 500: the request id to quote, never the defect's own words (they may hold anything). */
const internalFailure = (requestId: string): HttpFailure => ({
  status: 500,
  body: {
    error: {
      message: `internal error (request id ${requestId}); the gateway logged it`,
      type: "server_error",
      param: null,
      code: "internal",
    },
  },
  headers: { "x-request-id": requestId },
})

/** A defect (a bug) in a call: logged with its request id and cause, counted INTERNAL. */
const logInternal = (method: string, requestId: string, cause: Cause.Cause<unknown>) =>
  Effect.logError("internal error").pipe(
    Effect.annotateLogs({ method, transport: "http", requestId, cause: Cause.pretty(cause) }),
  )

/**
 * A route whose defects are answered as a 500 with a body (not an empty one) and logged with the request id; an
 * interruption (the client went away, the gateway stops) stays one.
 */
const guarded = <R>(
  method: string,
  route: Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest>,
) =>
  Effect.catchCause(route, (cause) =>
    Cause.hasInterruptsOnly(cause)
      ? Effect.failCause(cause)
      : Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const requestId = request.headers["x-request-id"]?.slice(0, 128) ?? randomUUID()
          yield* logInternal(method, requestId, cause)
          yield* Metric.update(Metric.withAttributes(reasonCalls, { method, outcome: "INTERNAL" }), 1)
          return failureResponse(internalFailure(requestId), new Map())
        }),
  )

/** A call the token gate let in (with its token's name, when tokens are asked), or its refusal. */
interface Admission {
  readonly caller?: string | undefined
  readonly refusal?: { readonly failure: HttpFailure; readonly outcome: string }
}

const routesLayer = (options: RouteOptions) => {
  const { reasoning, judges, gate, models } = options

  /**
   * Checks the bearer token for `method` (its slot held until the response is written): the refusal, if any, with
   * the status name it counts under, or the name of the token that admitted the call.
   */
  const admissionOf = (
    method: string,
    request: HttpServerRequest.HttpServerRequest,
  ): Effect.Effect<Admission, never, Scope.Scope> =>
    gate === undefined
      ? Effect.succeed({ caller: undefined })
      : gate.admit(method, request.headers.authorization).pipe(
          Effect.map((token): Admission => ({ caller: token.name })),
          Effect.catch((error) =>
            Effect.succeed<Admission>({ refusal: { failure: authFailure(error), outcome: error.statusName } }),
          ),
        )

  const refusalOf = (method: string, request: HttpServerRequest.HttpServerRequest) =>
    Effect.map(admissionOf(method, request), (admission) => Option.fromUndefinedOr(admission.refusal))

  const callOf = (
    method: string,
    request: HttpServerRequest.HttpServerRequest,
    headers: Map<string, string>,
    caller: string | undefined,
  ): CallInfo => ({
    method,
    transport: "http",
    caller,
    peer: Option.getOrElse(request.remoteAddress, () => "unknown"),
    deadline: undefined,
    requestId: request.headers["x-request-id"],
    setHeader: (key, value) => {
      headers.set(key.toLowerCase(), value)
    },
  })

  /**
   * The body as JSON, at most maxBodyBytes (refused by its Content-Length before it is read; a large one parsed off
   * the event loop); not JSON: refused naming `body`.
   */
  const readJson = (request: HttpServerRequest.HttpServerRequest) =>
    readBody(request, options.maxBodyBytes).pipe(
      Effect.mapError((problem) =>
        invalidField(
          "body",
          problem === "too-large" ? `is larger than ${options.maxBodyBytes} bytes` : "could not be read",
        ),
      ),
      Effect.flatMap((body) =>
        Effect.mapError(
          // Parsed, the body's bytes are dead: what the value keeps of them are copies (FreeBytes).
          parseJsonBody(body, REQUEST_BOUNDS.questionChars).pipe(
            Effect.ensuring(Effect.sync(() => freeBlocks(body.blocks))),
          ),
          (problem) =>
            typeof problem === "string"
              ? invalidField("body", `is not JSON (${problem}); send a JSON body with Content-Type: application/json`)
              : invalidField(
                  problem.path,
                  `is ${problem.length} characters; at most ${REQUEST_BOUNDS.questionChars} (the longest text field)`,
                ),
        ),
      ),
    )

  /**
   * One search call through the Reasoning path, as a stream of its updates, and what the request asked for once
   * decoded. Its first update comes after admission: an error before it is answered as an HTTP status.
   */
  const searchCall = Effect.fnUntraced(function* (method: string) {
    const request = yield* HttpServerRequest.HttpServerRequest
    const started = yield* Clock.currentTimeMillis
    const meter = makeMeter(method, started)
    const headers = new Map<string, string>()
    const asked: { chat?: ChatCommand } = {}
    // Errors of the Reasoning path named as this request spelled the field (its own decode's errors come spelled).
    const fieldOf = (field: FieldRef) => chatField(field, asked.chat?.fields ?? FIRST_MESSAGE)
    const fail = (failure: HttpFailure, outcome: string) => Effect.as(meter(outcome), failureResponse(failure, headers))

    const admission = yield* admissionOf(method, request)
    if (admission.refusal !== undefined) {
      return { refused: yield* fail(admission.refusal.failure, admission.refusal.outcome) } as const
    }

    const decode = Effect.flatMap(readJson(request), (body) =>
      decodeChatRequest(body.value, { maxImageBytes: options.maxImageBytes, models, dataUrls: body.dataUrls }),
    ).pipe(
      Effect.map((chat) => {
        asked.chat = chat
        return chat.command
      }),
    )
    const updates = reasoning.stream(callOf(method, request, headers, admission.caller), decode)
    const peeled = yield* Stream.peel(updates, Sink.head()).pipe(Effect.result)
    if (peeled._tag === "Failure") {
      const error: GatewayError = peeled.failure
      return {
        refused: yield* fail(toHttpFailure(error, fieldOf), outcomeOf(error)),
      } as const
    }
    const [first, rest] = peeled.success
    const all = Option.isSome(first) ? Stream.concat(Stream.succeed(first.value), rest) : rest
    return { updates: all, chat: asked.chat!, headers, meter, fieldOf, method } as const
  })

  /** Ends a response stream: counted by how it ended, and a failure after the first byte told in the stream. */
  const settle = (
    stream: Stream.Stream<Uint8Array, GatewayError>,
    call: {
      readonly method: string
      readonly meter: (outcome: string) => Effect.Effect<void>
      readonly fieldOf: (field: FieldRef) => string
      readonly headers: ReadonlyMap<string, string>
    },
    errorChunk: (failure: HttpFailure) => Uint8Array,
  ): Stream.Stream<Uint8Array> =>
    stream.pipe(
      Stream.catch((error: GatewayError) =>
        Stream.fromEffect(Effect.as(call.meter(outcomeOf(error)), errorChunk(toHttpFailure(error, call.fieldOf)))),
      ),
      // A defect after the first byte: told in the stream as a 500's body, logged, counted INTERNAL.
      Stream.catchCause((cause) => {
        if (Cause.hasInterruptsOnly(cause)) return Stream.failCause(cause)
        const requestId = call.headers.get("x-request-id") ?? randomUUID()
        return Stream.fromEffect(
          Effect.andThen(
            Effect.andThen(logInternal(call.method, requestId, cause), call.meter("INTERNAL")),
            Effect.succeed(errorChunk(internalFailure(requestId))),
          ),
        )
      }),
      Stream.onExit((exit) => call.meter(exit._tag === "Success" ? "OK" : "CANCELLED")),
    )

  const chatCompletions = Effect.gen(function* () {
    const call = yield* searchCall("ChatCompletions")
    if ("refused" in call) return call.refused
    const identity = {
      id: `chatcmpl-${call.headers.get("x-request-id") ?? "stagebeam"}`,
      created: Math.floor((yield* Clock.currentTimeMillis) / 1000),
      model: models[0]!,
    }
    if (!call.chat.stream) {
      const answered = yield* call.updates.pipe(
        Stream.runLast,
        Effect.map((last) => (Option.isSome(last) && last.value._tag === "Answered" ? last.value.answered : undefined)),
        Effect.result,
      )
      if (answered._tag === "Failure") {
        const error = answered.failure
        yield* call.meter(outcomeOf(error))
        return failureResponse(toHttpFailure(error, call.fieldOf), call.headers)
      }
      yield* call.meter("OK")
      return HttpServerResponse.jsonUnsafe(
        completionOf(identity, answered.success as Answered, call.chat.includeTrace),
        {
          headers: Object.fromEntries(call.headers),
        },
      )
    }
    const chunker = makeChunker(identity, call.chat.includeUsage)
    const body = call.updates.pipe(
      Stream.flatMap((update: ReasonUpdate) =>
        Stream.fromIterable(update._tag === "Event" ? chunker.event(update.event) : chunker.answered(update.answered)),
      ),
      Stream.map((chunk) => sse(chunk)),
      Stream.concat(Stream.succeed(SSE_DONE)),
    )
    return HttpServerResponse.stream(
      settle(withKeepAlive(body), call, (failure) => sse(failure.body)),
      { contentType: "text/event-stream", headers: { ...Object.fromEntries(call.headers), ...SSE_HEADERS } },
    )
  })

  /**
   * The search's events as the gRPC ReasonStream sends them, in the HTTP door's convention (snake_case keys,
   * numbers), one server-sent event each named by its kind (`search_started`, …), `done` last.
   */
  const searchEvents = Effect.gen(function* () {
    const call = yield* searchCall("SearchEvents")
    if ("refused" in call) return call.refused
    const body = call.updates.pipe(
      Stream.map((update: ReasonUpdate) => {
        if (update._tag === "Event") {
          const event = toProtoEvent(update.event, update.judgedBy)
          return sse(toWire(event), eventNameOf(event))
        }
        return sse(toWire(toProtoDone(update.answered)), "done")
      }),
    )
    return HttpServerResponse.stream(
      settle(withKeepAlive(body), call, (failure) => sse(failure.body, "error")),
      { contentType: "text/event-stream", headers: { ...Object.fromEntries(call.headers), ...SSE_HEADERS } },
    )
  })

  const listModels = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const refusal = yield* refusalOf("ListModels", request)
    if (Option.isSome(refusal)) return failureResponse(refusal.value.failure, new Map())
    return HttpServerResponse.jsonUnsafe({
      object: "list",
      data: models.map((id) => ({ id, object: "model", created: 0, owned_by: "stagebeam" })),
    })
  })

  /** The declared judges, as ListJudges lists them over gRPC (the page's judge menu). */
  const judgeList = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const refusal = yield* refusalOf("ListJudges", request)
    if (Option.isSome(refusal)) return failureResponse(refusal.value.failure, new Map())
    return HttpServerResponse.jsonUnsafe(toWire(yield* listJudges(judges)))
  })

  /** The Describe RPC over HTTP: version, pools, their servers, and whether any is simulated. */
  const description = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const refusal = yield* refusalOf("Describe", request)
    if (Option.isSome(refusal)) return failureResponse(refusal.value.failure, new Map())
    return HttpServerResponse.jsonUnsafe(toWire(yield* options.describe))
  })

  const notFound = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    return HttpServerResponse.jsonUnsafe(
      {
        error: {
          message: `no route ${request.method} ${request.url} (POST /v1/chat/completions, GET /v1/models, GET /v1/judges, GET /v1/describe, POST /v1/search/events, GET /health, GET /ready, GET /)`,
          type: "invalid_request_error",
          param: null,
          code: "not_found",
        },
      },
      { status: 404 },
    )
  })

  return HttpRouter.addAll([
    HttpRouter.route("POST", "/v1/chat/completions", guarded("ChatCompletions", chatCompletions)),
    HttpRouter.route("POST", "/v1/search/events", guarded("SearchEvents", searchEvents)),
    HttpRouter.route("GET", "/v1/models", guarded("ListModels", listModels)),
    HttpRouter.route("GET", "/v1/judges", guarded("ListJudges", judgeList)),
    HttpRouter.route("GET", "/v1/describe", guarded("Describe", description)),
    ...healthRoutes(options.health, options.draining),
    ...pageRoutes,
    HttpRouter.route("*", "*", notFound),
  ])
}
