import { Context, Duration, Effect, Layer, Redacted, Schema } from "effect"
import OpenAI, { APIConnectionTimeoutError, APIError } from "openai"
import { ChatCompletion, type ChatRequest } from "./ChatCompletion.ts"
import { UpstreamError } from "./FleetError.ts"
import { parseServerLoad, type ServerLoad } from "./ServerLoad.ts"

/** Where one call goes: a server of a pool, the model it serves there, and the pool's API key if it has one. */
export interface CallTarget {
  readonly pool: string
  readonly server: string
  readonly model: string
  readonly apiKey: Redacted.Redacted<string> | undefined
}

export interface ChatCallOptions {
  readonly requestId: string
  readonly timeout: Duration.Duration
}

/** vLLM answers errors nested (`{error:{message}}`, from v0.10.1) or flat (`{object:"error", message}`, before). */
const upstreamMessage = (error: APIError): string => {
  const body = error.error as
    | { readonly message?: unknown; readonly error?: { readonly message?: unknown } }
    | undefined
  const message = body?.error?.message ?? body?.message
  return typeof message === "string" ? message : error.message
}

const toUpstreamError = (target: CallTarget, error: unknown): UpstreamError => {
  const at = { pool: target.pool, server: target.server }
  if (error instanceof APIConnectionTimeoutError) {
    return new UpstreamError({ ...at, kind: "timeout", message: "the server did not answer in time" })
  }
  if (error instanceof APIError && error.status !== undefined) {
    return new UpstreamError({ ...at, kind: "status", status: error.status, message: upstreamMessage(error) })
  }
  return new UpstreamError({ ...at, kind: "connect", message: error instanceof Error ? error.message : String(error) })
}

const decodeCompletion = Schema.decodeUnknownEffect(ChatCompletion)

/**
 * The `openai` SDK wrapped as an Effect service. Retries are the pool's business (maxRetries 0); interruption
 * aborts the HTTP request, which makes vLLM abort the generation and free its slots.
 */
export class OpenAiClient extends Context.Service<
  OpenAiClient,
  {
    readonly chat: (
      target: CallTarget,
      request: ChatRequest,
      options: ChatCallOptions,
    ) => Effect.Effect<ChatCompletion, UpstreamError>
    /** GET /health: true on 200 (vLLM answers 503 while its engine is dead or, in the simulator, starting). */
    readonly health: (server: string, timeout: Duration.Duration) => Effect.Effect<boolean>
    /** GET /metrics: the server's own load report; undefined when it cannot be read. */
    readonly serverLoad: (server: string, timeout: Duration.Duration) => Effect.Effect<ServerLoad | undefined>
  }
>()("@stagebeam/fleet/OpenAiClient") {
  static readonly layer = Layer.sync(OpenAiClient, () => {
    const clients = new Map<string, OpenAI>()
    const clientFor = (server: string): OpenAI => {
      let client = clients.get(server)
      if (client === undefined) {
        // The SDK wants a key; the Authorization header is set (or removed) per call instead.
        client = new OpenAI({ baseURL: `${server}/v1`, apiKey: "per-call", maxRetries: 0 })
        clients.set(server, client)
      }
      return client
    }

    const chat = Effect.fn("OpenAiClient.chat")(function* (
      target: CallTarget,
      request: ChatRequest,
      options: ChatCallOptions,
    ) {
      yield* Effect.annotateCurrentSpan({ server: target.server, requestId: options.requestId, n: request.n ?? 1 })
      const timeoutMs = Duration.toMillis(options.timeout)
      const authorization = target.apiKey === undefined ? null : `Bearer ${Redacted.value(target.apiKey)}`
      // W3C trace context: a vLLM started with --otlp-traces-endpoint joins its spans to this call's trace.
      const span = yield* Effect.option(Effect.currentSpan)
      const traceparent =
        span._tag === "Some"
          ? `00-${span.value.traceId}-${span.value.spanId}-${span.value.sampled ? "01" : "00"}`
          : null
      const body = yield* Effect.tryPromise({
        try: (signal) =>
          clientFor(target.server).chat.completions.create(
            // The vLLM extensions (continue_final_message, include_stop_str_in_output, …) pass through the SDK.
            {
              ...request,
              model: target.model,
              stream: false,
            } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
            {
              signal,
              timeout: timeoutMs,
              headers: { "X-Request-Id": options.requestId, Authorization: authorization, traceparent },
            },
          ),
        catch: (error) => toUpstreamError(target, error),
      }).pipe(
        Effect.timeoutOrElse({
          duration: options.timeout,
          orElse: () =>
            Effect.fail(
              new UpstreamError({
                pool: target.pool,
                server: target.server,
                kind: "timeout",
                message: "no answer in time",
              }),
            ),
        }),
      )
      return yield* decodeCompletion(body).pipe(
        Effect.mapError(
          (issue) =>
            new UpstreamError({
              pool: target.pool,
              server: target.server,
              kind: "malformed",
              message: `unreadable completion: ${issue}`,
            }),
        ),
      )
    })

    /** A GET that never fails: `fallback` when the server cannot be reached, answers an error, or is too slow. */
    const probeGet = <A>(
      url: string,
      timeout: Duration.Duration,
      read: (response: Response) => Promise<A>,
      fallback: A,
    ) =>
      Effect.tryPromise({ try: (signal) => fetch(url, { signal }).then(read), catch: () => fallback }).pipe(
        Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.succeed(fallback) }),
        Effect.orElseSucceed(() => fallback),
      )

    const health = (server: string, timeout: Duration.Duration) =>
      probeGet(`${server}/health`, timeout, async (response) => response.ok, false)

    const serverLoad = (server: string, timeout: Duration.Duration) =>
      probeGet(
        `${server}/metrics`,
        timeout,
        (response) => (response.ok ? response.text() : Promise.resolve("")),
        "",
      ).pipe(Effect.map(parseServerLoad))

    return OpenAiClient.of({ chat, health, serverLoad })
  })
}
