import { Context, Duration, Effect, Layer, Schema } from "effect"
import OpenAI, { APIConnectionTimeoutError, APIError } from "openai"
import { ChatCompletion, type ChatRequest } from "./ChatCompletion.ts"
import { UpstreamError } from "./FleetError.ts"
import { parseServerLoad, type ServerLoad } from "./ServerLoad.ts"

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

const toUpstreamError = (endpoint: string, error: unknown): UpstreamError => {
  if (error instanceof APIConnectionTimeoutError) {
    return new UpstreamError({ endpoint, kind: "timeout", message: "the server did not answer in time" })
  }
  if (error instanceof APIError && error.status !== undefined) {
    return new UpstreamError({ endpoint, kind: "status", status: error.status, message: upstreamMessage(error) })
  }
  return new UpstreamError({
    endpoint,
    kind: "connect",
    message: error instanceof Error ? error.message : String(error),
  })
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
      baseUrl: string,
      model: string,
      request: ChatRequest,
      options: ChatCallOptions,
    ) => Effect.Effect<ChatCompletion, UpstreamError>
    /** GET /health: true on 200 (vLLM answers 503 while its engine is dead or, in the simulator, starting). */
    readonly health: (baseUrl: string, timeout: Duration.Duration) => Effect.Effect<boolean>
    /** GET /metrics: the server's own load report; undefined when it cannot be read. */
    readonly serverLoad: (baseUrl: string, timeout: Duration.Duration) => Effect.Effect<ServerLoad | undefined>
  }
>()("@stagebeam/fleet/OpenAiClient") {
  static readonly layer = Layer.sync(OpenAiClient, () => {
    const clients = new Map<string, OpenAI>()
    const clientFor = (baseUrl: string): OpenAI => {
      let client = clients.get(baseUrl)
      if (client === undefined) {
        client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: "unused", maxRetries: 0 })
        clients.set(baseUrl, client)
      }
      return client
    }

    const chat = Effect.fn("OpenAiClient.chat")(function* (
      baseUrl: string,
      model: string,
      request: ChatRequest,
      options: ChatCallOptions,
    ) {
      yield* Effect.annotateCurrentSpan({ endpoint: baseUrl, requestId: options.requestId, n: request.n ?? 1 })
      const timeoutMs = Duration.toMillis(options.timeout)
      const body = yield* Effect.tryPromise({
        try: (signal) =>
          clientFor(baseUrl).chat.completions.create(
            // The vLLM extensions (continue_final_message, include_stop_str_in_output, …) pass through the SDK.
            { ...request, model, stream: false } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
            { signal, timeout: timeoutMs, headers: { "X-Request-Id": options.requestId } },
          ),
        catch: (error) => toUpstreamError(baseUrl, error),
      }).pipe(
        Effect.timeoutOrElse({
          duration: options.timeout,
          orElse: () =>
            Effect.fail(new UpstreamError({ endpoint: baseUrl, kind: "timeout", message: "no answer in time" })),
        }),
      )
      return yield* decodeCompletion(body).pipe(
        Effect.mapError(
          (issue) =>
            new UpstreamError({ endpoint: baseUrl, kind: "malformed", message: `unreadable completion: ${issue}` }),
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

    const health = (baseUrl: string, timeout: Duration.Duration) =>
      probeGet(`${baseUrl}/health`, timeout, async (response) => response.ok, false)

    const serverLoad = (baseUrl: string, timeout: Duration.Duration) =>
      probeGet(
        `${baseUrl}/metrics`,
        timeout,
        (response) => (response.ok ? response.text() : Promise.resolve("")),
        "",
      ).pipe(Effect.map(parseServerLoad))

    return OpenAiClient.of({ chat, health, serverLoad })
  })
}
