import { Context, Duration, Effect, Layer, Predicate, Redacted, References } from "effect"
import OpenAI, { APIError } from "openai"
import { checkAnswer } from "./AnswerCheck.ts"
import type { ServerKind } from "./Capabilities.ts"
import type { ChatCompletion, ChatRequest, WireCompletion } from "./ChatCompletion.ts"
import { toUpstreamError } from "./ErrorBody.ts"
import { UpstreamError } from "./FleetError.ts"
import { makeImageSplicer } from "./ImageSplice.ts"
import {
  type BufferedAnswer,
  type Cancel,
  defaultTransportLimits,
  type LeanTransport,
  makeLeanTransport,
  type TransportLimits,
} from "./LeanTransport.ts"
import { parseServerLoad, type ServerLoad } from "./ServerLoad.ts"
import { inSpan } from "./Spans.ts"
import { applyStops, firstStop } from "./StopStrings.ts"
import { estimateTokens } from "./TokenEstimate.ts"

/** A server of a pool, with the pool's API key if it has one (sent as a bearer token, also on probes). */
export interface ServerTarget {
  readonly pool: string
  readonly server: string
  readonly apiKey: Redacted.Redacted<string> | undefined
}

/** Where one call goes: a server of a pool, the model it serves there, and what kind of server it is. */
export interface CallTarget extends ServerTarget {
  readonly model: string
  /** As probed; undefined until then. vLLM-only fields go to vLLM servers only. */
  readonly kind?: ServerKind | undefined
}

export interface ChatCallOptions {
  readonly requestId: string
  readonly timeout: Duration.Duration
  /**
   * For servers that ignore stop strings: stream the answer and abort it as soon as every sample has written one
   * of these, so the server stops spending GPU time on text that would be cut anyway.
   */
  readonly cutAt?: ReadonlyArray<string>
  /** Ask for the usage chunk of a stream (servers without usage blocks may refuse `stream_options`). */
  readonly streamUsage?: boolean
  /** Hand the samples on as the server sent them, stop strings unapplied (for probes of what the server does). */
  readonly raw?: boolean
  /**
   * Stream the answer and hand on each sample as the server finishes it (index, text, finish reason), before the
   * others: the caller may start on the first while the rest still decode. Called synchronously; it must not block.
   */
  readonly onChoice?: ChoiceListener
}

export type ChoiceListener = (index: number, text: string, finishReason: string, stopReason: string | null) => void

export interface PostCallOptions {
  readonly requestId: string
  readonly timeout: Duration.Duration
}

/**
 * An error that came back with a success status (some servers answer an unsupported route's error as a 200): its
 * status and words, or undefined for a real answer.
 */
const errorInBody = (json: unknown): { readonly status: number; readonly message: string } | undefined => {
  if (!Predicate.isObject(json)) return undefined
  const inner =
    "error" in json && Predicate.isObject(json.error)
      ? json.error
      : "object" in json && json.object === "error"
        ? json
        : undefined
  if (inner === undefined) return undefined
  const message = "message" in inner && Predicate.isString(inner.message) ? inner.message : "an error"
  const code = "code" in inner && Predicate.isNumber(inner.code) ? inner.code : 400
  return { status: code, message }
}

/** A GET's answer: its status and its body when that was JSON. */
export interface HttpAnswer {
  readonly status: number
  readonly json: unknown
}

const stopReasonOf = (choice: WireCompletion["choices"][number]): string | null => {
  const reported = choice.stop_reason ?? choice.matched_stop
  return Predicate.isString(reported) ? reported : null
}

/** Fields only vLLM understands (a strict server refuses unknown fields): the rest of the fleet does without. */
const forServer = (request: ChatRequest, kind: ServerKind | undefined): ChatRequest => {
  if (kind === undefined || kind === "vllm" || request.include_stop_str_in_output === undefined) return request
  const { include_stop_str_in_output: _, ...rest } = request
  return rest
}

/**
 * The completion as the orchestrator reads it: stop strings applied as the request asked (cut where the server
 * wrote past them, put back where it trimmed them), and token counts estimated where the server sent none.
 */
const normalize = (
  wire: WireCompletion,
  request: ChatRequest,
  countsUnknown: boolean,
  asSent: boolean,
): Effect.Effect<ChatCompletion> => {
  const stops = asSent ? [] : (request.stop ?? [])
  const keep = request.include_stop_str_in_output === true
  const raw = wire.choices.map((choice) => choice.message.content ?? "")
  const choices = wire.choices.map((choice, i) => {
    const stopped = applyStops(
      { text: raw[i]!, finishReason: choice.finish_reason, stopReason: stopReasonOf(choice) },
      stops,
      keep,
    )
    return {
      index: choice.index,
      message: { content: stopped.text },
      finish_reason: stopped.finishReason,
      stop_reason: stopped.stopReason,
      logprobs: choice.logprobs?.content ?? undefined,
    }
  })
  const completion = (usage: ChatCompletion["usage"]): ChatCompletion => ({
    id: wire.id,
    model: wire.model,
    choices,
    usage,
  })
  // Counts the server sent need no Effect step (most calls); only an estimate does.
  return wire.usage != null && !countsUnknown
    ? Effect.succeed(
        completion({ prompt_tokens: wire.usage.prompt_tokens, completion_tokens: wire.usage.completion_tokens }),
      )
    : Effect.map(estimateTokens(request.messages, raw), completion)
}

interface StreamChoice {
  readonly index: number
  readonly delta?: { readonly content?: string | null } | null
  readonly finish_reason?: string | null
  readonly stop_reason?: unknown
  readonly matched_stop?: unknown
}

interface StreamChunk {
  readonly id?: string
  readonly model?: string
  readonly choices?: ReadonlyArray<StreamChoice>
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number } | null
}

/** A streamed answer that does not fit its request: the stream is abandoned (closing it tells the server). */
class StreamProblem extends Error {}

/**
 * Reads a streamed answer until every expected sample has finished or written one of `cutAt`; then aborts the
 * request (the server frees the sequences at once) and returns the samples as one completion. Counts come from
 * the usage chunk when the stream ran to its end with one, else they are estimated. A sample index outside the
 * request's `n`, or more content events for a sample than `maxTokens` (a server that never stops), fails it.
 */
const readStream = async (
  stream: AsyncIterable<StreamChunk> & { readonly controller: AbortController },
  expected: number,
  maxTokens: number,
  cutAt: ReadonlyArray<string>,
  onChoice?: ChoiceListener,
): Promise<{ readonly wire: WireCompletion; readonly cut: boolean }> => {
  const texts: Array<string> = []
  const finish: Array<string | null> = []
  const stopReasons: Array<string | null> = []
  const finished: Array<boolean> = []
  const events: Array<number> = []
  // A stop string can only have completed within the text a delta added and the longest stop's length before it.
  const longestStop = cutAt.reduce((most, stop) => Math.max(most, stop.length), 0)
  let finishedCount = 0
  let id = ""
  let model = ""
  let usage: WireCompletion["usage"]
  let cut = false
  for await (const chunk of stream) {
    id ||= chunk.id ?? ""
    model ||= chunk.model ?? ""
    if (chunk.usage != null) usage = chunk.usage
    for (const choice of chunk.choices ?? []) {
      const i = choice.index
      if (!Number.isInteger(i) || i < 0 || i >= expected) {
        throw new StreamProblem(
          `the stream's choice index ${String(i).slice(0, 40)} is not one of the ${expected} asked for`,
        )
      }
      if (finished[i] === true) continue
      const before = texts[i] ?? ""
      const delta = choice.delta?.content ?? ""
      if (delta !== "") events[i] = (events[i] ?? 0) + 1
      if ((events[i] ?? 0) > maxTokens + 1) {
        throw new StreamProblem(`the stream sent more than max_tokens (${maxTokens}) pieces for choice ${i}`)
      }
      texts[i] = before + delta
      if (choice.finish_reason != null) {
        finish[i] = choice.finish_reason
        const reported = choice.stop_reason ?? choice.matched_stop
        stopReasons[i] = Predicate.isString(reported) ? reported : null
        finished[i] = true
        finishedCount++
        onChoice?.(i, texts[i]!, choice.finish_reason, stopReasons[i] ?? null)
      }
      if (
        finished[i] !== true &&
        longestStop > 0 &&
        firstStop(texts[i]!.slice(Math.max(0, before.length - longestStop + 1)), cutAt) !== undefined
      ) {
        finished[i] = true
        finishedCount++
        cut = true
      }
    }
    if (finishedCount >= expected && cut) {
      stream.controller.abort()
      break
    }
  }
  // Only the samples the server sent (one that ignores n sends fewer: Probe reads that).
  const choices = texts.flatMap((text, index) => [
    {
      index,
      message: { content: text },
      finish_reason: finish[index] ?? "stop",
      stop_reason: stopReasons[index] ?? null,
    },
  ])
  return { wire: { id, model, choices, ...(usage === undefined ? {} : { usage }) }, cut }
}

/**
 * `then` with the call's W3C trace context, the call's span annotated with `attributes`: a vLLM started with
 * --otlp-traces-endpoint joins its spans to this call's trace. Null where the tracer is off (no span to annotate or
 * join), found in the same Effect step as `then`'s.
 */
const withTraceparent = <A, E>(
  attributes: () => Record<string, unknown>,
  then: (traceparent: string | null) => Effect.Effect<A, E>,
): Effect.Effect<A, E> =>
  Effect.withFiber((fiber) => {
    if (!fiber.getRef(References.TracerEnabled)) return then(null)
    return Effect.flatMap(
      Effect.andThen(Effect.annotateCurrentSpan(attributes()), Effect.option(Effect.currentSpan)),
      (span) =>
        then(
          span._tag === "Some"
            ? `00-${span.value.traceId}-${span.value.spanId}-${span.value.sampled ? "01" : "00"}`
            : null,
        ),
    )
  })

/** `then` once the body's images are encoded (see ImageSplice), without an Effect step where they were already. */
const afterEncoding = <A, E>(ahead: Effect.Effect<void> | undefined, then: () => Effect.Effect<A, E>) =>
  ahead === undefined ? then() : Effect.flatMap(ahead, then)

/** A try past its own deadline: the request was aborted, and the call counts as a timeout. */
const lateError = (target: ServerTarget, timeout: Duration.Duration) =>
  new UpstreamError({
    pool: target.pool,
    server: target.server,
    kind: "timeout",
    message: `no answer within ${Duration.format(timeout)} (this try's deadline)`,
  })

/**
 * Why `viaSignal` aborts an SDK request: made once, since by then nothing reads it (the outcome is already the
 * deadline's or the interruption's), and an abort without a reason makes a DOMException and undici an error, each
 * with a stack.
 */
const ABANDONED = new Error("the call was abandoned (interrupted, or past its deadline)")

/** The longest delay setTimeout keeps (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1

/** A request under way: `done` hears how it ended (once, unless cancelled first); the result stops it. */
type Started<A> = (done: (error: unknown, value: A | undefined) => void) => Cancel

/** A promise-made request (the SDK's) as a started one, cancelled through an AbortSignal. */
const viaSignal =
  <A>(run: (signal: AbortSignal) => Promise<A>): Started<A> =>
  (done) => {
    const controller = new AbortController()
    let pending: Promise<A>
    try {
      pending = run(controller.signal)
    } catch (error) {
      pending = Promise.reject(error)
    }
    pending.then(
      (value) => done(undefined, value),
      (error) => done(error ?? new Error(String(error)), undefined),
    )
    return () => controller.abort(ABANDONED)
  }

/**
 * A request under a deadline without the race of two fibers and a sleep that `Effect.timeoutOrElse` makes, for every
 * upstream call, load report and health probe (issue #24): one timer cancels the request and the outcome is
 * `late`'s; interruption cancels it too (vLLM then aborts the generation). Else the outcome is `ok`'s or `failed`'s,
 * resumed straight from the transport's callback (no promise, no AbortSignal on the direct path).
 * The deadline is kept one turn of the event loop after its timer fires: after the process stalled past it (a long GC
 * pause, CPU throttling, a paused container or VM), Node runs due timers before it reads the sockets, so an answer
 * that came in during the stall would be judged late and a server that answered its /health judged down;
 * `setImmediate` runs after that read.
 */
const within = <A, B, E>(
  timeout: Duration.Duration,
  start: Started<A>,
  outcome: {
    readonly ok: (value: A) => Effect.Effect<B, E>
    readonly failed: (error: unknown) => Effect.Effect<B, E>
    readonly late: () => Effect.Effect<B, E>
  },
): Effect.Effect<B, E> =>
  Effect.callback<B, E>((resume) => {
    let settled = false
    let cancel: Cancel | undefined
    let lastTurn: ReturnType<typeof setImmediate> | undefined
    const expire = () => {
      if (settled) return
      settled = true
      cancel?.()
      resume(Effect.suspend(outcome.late))
    }
    const ms = Duration.toMillis(timeout)
    const timer =
      ms < MAX_TIMER_MS
        ? setTimeout(
            () => {
              if (!settled) lastTurn = setImmediate(expire)
            },
            Math.max(0, ms),
          )
        : undefined
    const done = (error: unknown, value: A | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearImmediate(lastTurn)
      // Run here rather than suspended (one Effect step less per call); a throw is a defect, not a hung call.
      let next: Effect.Effect<B, E>
      try {
        next = error === undefined ? outcome.ok(value as A) : outcome.failed(error)
      } catch (defect) {
        next = Effect.die(defect)
      }
      resume(next)
    }
    try {
      cancel = start(done)
    } catch (error) {
      done(error ?? new Error(String(error)), undefined)
    }
    return Effect.sync(() => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearImmediate(lastTurn)
      cancel?.()
    })
  })

export class OpenAiClient extends Context.Service<
  OpenAiClient,
  {
    readonly chat: (
      target: CallTarget,
      request: ChatRequest,
      options: ChatCallOptions,
    ) => Effect.Effect<ChatCompletion, UpstreamError>
    /**
     * Is the server up: GET /health answers 200 (vLLM and SGLang answer 503 while the engine is dead or starting).
     * A server without /health (most OpenAI-compatible APIs, or one that guards every path with its key) is up
     * when /v1/models answers at all, a refused key included, so that calls say what is wrong instead of finding
     * no server.
     */
    readonly health: (target: ServerTarget, timeout: Duration.Duration) => Effect.Effect<boolean>
    /** GET /metrics, read as a vLLM or SGLang load report; undefined without one. */
    readonly serverLoad: (server: string, timeout: Duration.Duration) => Effect.Effect<ServerLoad | undefined>
    /**
     * POST a JSON body to `path` on the server (vLLM's /pooling, /score: the routes beside the OpenAI API), with the
     * pool's key and the request id; the answer's JSON. Errors as `chat`'s; interruption aborts the request.
     */
    readonly post: (
      target: ServerTarget,
      path: string,
      body: unknown,
      options: PostCallOptions,
    ) => Effect.Effect<unknown, UpstreamError>
    /** GET `path` with the pool's key; undefined when the server cannot be reached in time. */
    readonly get: (
      target: ServerTarget,
      path: string,
      timeout: Duration.Duration,
    ) => Effect.Effect<HttpAnswer | undefined>
  }
>()("@stagebeam/fleet/OpenAiClient") {
  /** The client over the lean transport, reading upstream answers within `limits`; its connections close with it. */
  static readonly layerWith = (limits: TransportLimits) =>
    Layer.effect(
      OpenAiClient,
      Effect.map(
        Effect.acquireRelease(
          Effect.sync(() => makeLeanTransport(limits)),
          (transport) => Effect.promise(transport.close),
        ),
        (transport) => makeClient(transport, limits),
      ),
    )

  static readonly layer = OpenAiClient.layerWith(defaultTransportLimits)
}

const makeClient = (transport: LeanTransport, limits: TransportLimits): OpenAiClient["Service"] => {
  const clients = new Map<string, OpenAI>()
  // A search's image is encoded into JSON once, not once per request (see ImageSplice).
  const images = makeImageSplicer(transport.fetch)
  const clientFor = (server: string): OpenAI => {
    let client = clients.get(server)
    if (client === undefined) {
      // The SDK wants a key; the Authorization header is set (or removed) per call instead. Retries are the pool's
      // (maxRetries 0); its logger is off (the pool logs failures with the server's words).
      client = new OpenAI({
        baseURL: `${server}/v1`,
        apiKey: "per-call",
        maxRetries: 0,
        logLevel: "off",
        fetch: images.fetch,
      })
      clients.set(server, client)
    }
    return client
  }
  const authorization = (target: ServerTarget) =>
    target.apiKey === undefined ? null : `Bearer ${Redacted.value(target.apiKey)}`
  const noHeaders: ReadonlyArray<string> = []
  const authHeaders = (target: ServerTarget): ReadonlyArray<string> =>
    target.apiKey === undefined ? noHeaders : ["authorization", `Bearer ${Redacted.value(target.apiKey)}`]

  /** The headers of every direct call with this key (or none), made once per key. */
  const jsonHeaders: ReadonlyArray<string> = ["content-type", "application/json", "accept", "application/json"]
  const keyedHeaders = new WeakMap<Redacted.Redacted<string>, ReadonlyArray<string>>()
  const headersOf = (target: ServerTarget): ReadonlyArray<string> => {
    if (target.apiKey === undefined) return jsonHeaders
    let headers = keyedHeaders.get(target.apiKey)
    if (headers === undefined) {
      headers = [...jsonHeaders, "authorization", `Bearer ${Redacted.value(target.apiKey)}`]
      keyedHeaders.set(target.apiKey, headers)
    }
    return headers
  }

  /**
   * The JSON of a direct call's answer. An error answer becomes the SDK's own APIError, made as the SDK makes it, so
   * that errors read as on every other path (ErrorBody); a body that is not JSON a SyntaxError, which ErrorBody reads
   * as a malformed answer.
   */
  const jsonOf = (answer: BufferedAnswer): unknown => {
    const text = answer.body.toString("utf8")
    if (answer.status < 200 || answer.status >= 300) {
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      // As the SDK's makeStatusError: a body without an `error` member is the error itself.
      const error = Predicate.isObject(json) && !("error" in json && json.error != null) ? { error: json } : json
      throw APIError.generate(answer.status, error as object, json === undefined ? text : undefined, answer.headers())
    }
    return JSON.parse(text)
  }

  /** A completion as the caller reads it, or why the answer is not one. */
  const completionOf = (
    wire: unknown,
    request: ChatRequest,
    at: { readonly pool: string; readonly server: string },
    cut: boolean,
    raw: boolean,
  ): Effect.Effect<ChatCompletion, UpstreamError> => {
    const checked = checkAnswer(wire, request)
    if ("problem" in checked)
      return Effect.fail(new UpstreamError({ ...at, kind: "malformed", message: checked.problem }))
    // A stream cut short has no usage chunk: what it cost is estimated from what was read.
    return normalize(checked.completion, request, cut, raw)
  }

  /** One chat call, once its span (if any) is known: the body made, sent, and its answer read. */
  const chatWith = (
    target: CallTarget,
    request: ChatRequest,
    options: ChatCallOptions,
    traceparent: string | null,
  ): Effect.Effect<ChatCompletion, UpstreamError> => {
    const cutAt = options.cutAt ?? []
    const direct = cutAt.length === 0 && options.onChoice === undefined
    // The vLLM extensions (continue_final_message, include_stop_str_in_output, …) pass through as they are.
    const whole = { ...forServer(request, target.kind), model: target.model, stream: !direct }
    const failure = { pool: target.pool, server: target.server, hasKey: target.apiKey !== undefined }
    const at = { pool: target.pool, server: target.server }
    const failed = (error: unknown) => Effect.fail(toUpstreamError(failure, error))
    const late = () => Effect.fail(lateError(target, options.timeout))
    if (direct) {
      // A non-streamed completion without the SDK: the hottest call (every generation and verdict), where the SDK's
      // own work per call (its headers, request options, abort controller, response parsing and log formatting) was
      // about as much CPU as the rest of the transport together (bench/gateway-cpu.ts, part 0). The image's bytes
      // are spliced in as the body is made, so its placeholder is released at once.
      return afterEncoding(images.encodeAhead(whole), () => {
        const { body, release } = images.substitute(whole)
        let sent: ReturnType<typeof images.bodyOf>
        try {
          sent = images.bodyOf(JSON.stringify(body))
        } finally {
          release()
        }
        const headers = [...headersOf(target), "x-request-id", options.requestId]
        if (traceparent !== null) headers.push("traceparent", traceparent)
        return within(
          options.timeout,
          (done) =>
            transport.send({ method: "POST", url: `${target.server}/v1/chat/completions`, headers, body: sent }, done),
          {
            ok: (answer: BufferedAnswer) => {
              let wire: unknown
              try {
                wire = jsonOf(answer)
              } catch (error) {
                return failed(error)
              }
              return completionOf(wire, request, at, false, options.raw === true)
            },
            failed,
            late,
          },
        )
      })
    }
    const requestOptions = (signal: AbortSignal) => ({
      signal,
      timeout: Math.ceil(Duration.toMillis(options.timeout)),
      headers: { "X-Request-Id": options.requestId, Authorization: authorization(target), traceparent },
    })
    return afterEncoding(images.encodeAhead(whole), () => {
      const { body, release } = images.substitute(whole)
      return within(
        options.timeout,
        viaSignal(async (signal): Promise<{ readonly wire: unknown; readonly cut: boolean }> => {
          const stream = await clientFor(target.server).chat.completions.create(
            {
              ...body,
              stream: true,
              ...(options.streamUsage === true ? { stream_options: { include_usage: true } } : {}),
            } as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
            requestOptions(signal),
          )
          const onChoice = options.onChoice
          // Each sample handed on as the answer will read (stop strings applied as `normalize` applies them).
          const heard: ChoiceListener | undefined =
            onChoice === undefined
              ? undefined
              : (index, text, finishReason, stopReason) => {
                  const stopped = applyStops(
                    { text, finishReason, stopReason },
                    request.stop ?? [],
                    request.include_stop_str_in_output === true,
                  )
                  onChoice(index, stopped.text, stopped.finishReason ?? finishReason, stopped.stopReason)
                }
          try {
            return await readStream(
              stream as never,
              request.n ?? 1,
              request.max_tokens ?? Number.MAX_SAFE_INTEGER,
              cutAt,
              heard,
            )
          } catch (error) {
            if (!(error instanceof StreamProblem)) throw error
            stream.controller.abort()
            throw new UpstreamError({ ...at, kind: "malformed", message: error.message })
          }
        }),
        {
          ok: ({ wire, cut }) => completionOf(wire, request, at, cut, options.raw === true),
          failed,
          late,
        },
      ).pipe(Effect.ensuring(Effect.sync(release)))
    })
  }

  const chat = (target: CallTarget, request: ChatRequest, options: ChatCallOptions) =>
    inSpan("OpenAiClient.chat")(
      withTraceparent(
        () => ({ server: target.server, requestId: options.requestId, n: request.n ?? 1 }),
        (traceparent) => chatWith(target, request, options, traceparent),
      ),
    )

  const post = Effect.fnUntraced(function* (
    target: ServerTarget,
    path: string,
    body: unknown,
    options: PostCallOptions,
  ) {
    yield* Effect.annotateCurrentSpan({ server: target.server, requestId: options.requestId, path })
    const failure = { pool: target.pool, server: target.server, hasKey: target.apiKey !== undefined }
    const ahead = images.encodeAhead(body)
    if (ahead !== undefined) yield* ahead
    const sent = images.substitute(body)
    const json = yield* within(
      options.timeout,
      viaSignal((signal) =>
        clientFor(target.server).post<unknown>(`${target.server}${path}`, {
          body: sent.body,
          signal,
          timeout: Duration.toMillis(options.timeout),
          headers: { "X-Request-Id": options.requestId, Authorization: authorization(target) },
        }),
      ),
      {
        ok: (json): Effect.Effect<unknown, UpstreamError> => Effect.succeed(json),
        failed: (error) => Effect.fail(toUpstreamError(failure, error)),
        late: () => Effect.fail(lateError(target, options.timeout)),
      },
    ).pipe(Effect.ensuring(Effect.sync(sent.release)))
    const error = errorInBody(json)
    if (error !== undefined) {
      return yield* new UpstreamError({
        pool: target.pool,
        server: target.server,
        kind: "status",
        status: error.status,
        message: error.message,
      })
    }
    return json
  }, inSpan("OpenAiClient.post"))

  const nothing = () => Effect.succeed(undefined)
  const get = (target: ServerTarget, path: string, timeout: Duration.Duration) =>
    within(
      timeout,
      (done) =>
        transport.send(
          { method: "GET", url: `${target.server}${path}`, headers: authHeaders(target), body: null },
          done,
        ),
      {
        ok: (answer: BufferedAnswer): Effect.Effect<HttpAnswer | undefined> => {
          let json: unknown
          try {
            json = JSON.parse(answer.body.toString("utf8"))
          } catch {
            json = undefined
          }
          return Effect.succeed({ status: answer.status, json })
        },
        failed: nothing,
        late: nothing,
      },
    )

  const health = (target: ServerTarget, timeout: Duration.Duration) =>
    Effect.gen(function* () {
      const answer = yield* get(target, "/health", timeout)
      if (answer === undefined) return false
      // No such route (or one that wants the key first, as servers that guard every path do): ask /v1/models.
      if (answer.status !== 404 && answer.status !== 401 && answer.status !== 403) return answer.status === 200
      const models = yield* get(target, "/v1/models", timeout)
      return models !== undefined && models.status < 500
    })

  // A page past its limit is no report (and a logged warning would repeat every interval: the pool's routing simply
  // does without it, as for a server with no /metrics).
  const noReport = () => Effect.succeed(undefined)
  const serverLoad = (server: string, timeout: Duration.Duration) =>
    within(
      timeout,
      (done) =>
        transport.send(
          { method: "GET", url: `${server}/metrics`, headers: noHeaders, body: null, maxBytes: limits.maxMetricsBytes },
          done,
        ),
      {
        ok: (answer: BufferedAnswer) =>
          Effect.succeed(answer.status === 200 ? parseServerLoad(answer.body.toString("utf8")) : undefined),
        failed: noReport,
        late: noReport,
      },
    )

  return OpenAiClient.of({ chat, post, health, serverLoad, get })
}
