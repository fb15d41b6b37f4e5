import { continuationFlags, continuationMessages } from "@stagebeam/cot"
import { type Capabilities, type ChatRequest, type ChatResult, Fleet, inSpan, type Pool } from "@stagebeam/fleet"
import {
  CandidateGenerator,
  type GeneratedText,
  type GenerationRequest,
  type GenerationResult,
  type SampleListener,
} from "@stagebeam/search"
import { Effect, Layer } from "effect"

const finishReason = (reason: string | null): GeneratedText["finishReason"] =>
  reason === "stop" || reason === "length" ? reason : "abort"

/**
 * vLLM reports completion tokens summed over the n samples; the share of each sample is estimated from its length
 * (the total is exact, the split is an estimate).
 */
const splitTokens = (texts: ReadonlyArray<string>, total: number): ReadonlyArray<number> => {
  const chars = texts.reduce((sum, text) => sum + text.length, 0)
  if (chars === 0) return texts.map(() => Math.floor(total / Math.max(1, texts.length)))
  return texts.map((text) => Math.round((total * text.length) / chars))
}

const toResult = (result: ChatResult): GenerationResult => {
  const choices = [...result.completion.choices].sort((a, b) => a.index - b.index)
  const texts = choices.map((choice) => choice.message.content ?? "")
  const tokens = splitTokens(texts, result.completion.usage.completion_tokens)
  return {
    samples: choices.map((choice, i) => ({
      text: texts[i] ?? "",
      finishReason: finishReason(choice.finish_reason),
      completionTokens: tokens[i] ?? 0,
    })),
    promptTokens: result.completion.usage.prompt_tokens,
    server: result.server,
    ...(result.completion.usage.estimated === true && { tokensEstimated: true }),
  }
}

/**
 * One search's calls share their prompt's start (image and question): its affinity key. An image's data URL may be
 * megabytes, so its length and tail stand in for it; a collision only costs a cache hit.
 */
const affinityOf = (request: GenerationRequest): string =>
  `${request.question}\u0000${request.imageUrl?.length ?? 0}:${request.imageUrl?.slice(-128) ?? ""}`

/** Label for the upstream request id: what the call samples. */
const labelOf = (request: GenerationRequest): string => {
  const stop = request.stop.find((s) => s.startsWith("</"))
  return stop === undefined ? "gen" : `gen-${stop.slice(2, -1).toLowerCase()}`
}

/** vLLM's priority (lower runs first): a running search's calls 0, a search's first call 1, a speculative call 2. */
export const priorityOf = (request: GenerationRequest): number =>
  request.speculative === true ? 2 : request.prefix.length === 0 ? 1 : 0

/** Splits n samples into requests of at most `max` (a request's n samples must fit the server's max_num_seqs). */
export const splitSamples = (n: number, max: number): ReadonlyArray<number> =>
  Array.from({ length: Math.ceil(n / max) }, (_, i) => Math.min(max, n - i * max))

const mergeResults = (parts: ReadonlyArray<GenerationResult>): GenerationResult => ({
  samples: parts.flatMap((part) => part.samples),
  promptTokens: parts.reduce((sum, part) => sum + part.promptTokens, 0),
  server: [...new Set(parts.map((part) => part.server))].join(","),
  ...(parts.some((part) => part.tokensEstimated === true) && { tokensEstimated: true }),
})

/** Seeds of a split request's parts lie far apart, so their samples do not repeat each other. */
const SEED_STRIDE = 1_000_003

/** vLLM's _SAMPLING_EPS: a temperature below it is greedy sampling. */
const GREEDY_BELOW = 1e-5

export interface FleetGeneratorOptions {
  /** Most samples in one request (the servers' max_num_seqs). */
  readonly maxSamplesPerRequest: number
}

/**
 * Samples candidates on a pool: one request with n = N continuing the chosen prefix, so the server prefills the
 * prompt and the image once for all N, stopping at the stage's closing tag and keeping it. A vLLM server never
 * schedules more samples of one request than its max_num_seqs, so a larger N is split into several requests (with
 * derived seeds), sent in parallel and possibly to different servers. A failed call fails with the pool's error.
 *
 * Where the pool's servers cannot do that, it falls back: without `n` (or when a server answers fewer samples than
 * asked) the missing samples go out as parallel single requests with distinct seeds; without stop strings each
 * request is streamed and aborted at the closing tag (the pool cuts the text there). Continuation is never faked:
 * the gateway refuses the strategies that need it on a pool without it.
 */
export const makeFleetGenerator = (pool: Pool, options: FleetGeneratorOptions): CandidateGenerator["Service"] => {
  /** One request of `n` samples; `first` is its first sample's index in the call's result (for `onSample`). */
  const call = (
    request: GenerationRequest,
    capabilities: Capabilities,
    n: number,
    part: number,
    first: number,
    onSample: SampleListener | undefined,
  ) => {
    const chat: ChatRequest = {
      messages: continuationMessages(request.question, request.imageUrl, request.prefix),
      // The chat-template flags only when continuing: they are vLLM's, and their defaults start a new answer.
      ...(request.prefix.length > 0 ? continuationFlags(request.prefix) : {}),
      ...(n > 1 ? { n } : {}),
      seed: (request.seed + part * SEED_STRIDE) % 0x1_0000_0000,
      temperature: request.sampling.temperature,
      top_p: request.sampling.topP,
      ...(request.sampling.topK === undefined ? {} : { top_k: request.sampling.topK }),
      max_tokens: request.sampling.maxTokens,
      ...(request.stop.length > 0 ? { stop: request.stop, include_stop_str_in_output: true } : {}),
      ...(request.stopTokenIds === undefined || request.stopTokenIds.length === 0
        ? {}
        : { stop_token_ids: request.stopTokenIds }),
      // A running search's calls go before a new search's first one, where the servers schedule by priority: the
      // work already started finishes sooner, and a burst of new searches waits behind it. A speculative call (a
      // finalist's next stage that may be thrown away) goes after both.
      ...(capabilities.priority ? { priority: priorityOf(request) } : {}),
    }
    const cutAt = capabilities.stop ? [] : request.stop
    return pool
      .complete(chat, {
        label: labelOf(request),
        affinity: affinityOf(request),
        ...(cutAt.length > 0 && { cutAt }),
        // Token counts come with the whole answer; a sample heard early carries its text.
        ...(onSample !== undefined && {
          onChoice: (index: number, text: string, reason: string) =>
            onSample(first + index, { text, finishReason: finishReason(reason), completionTokens: 0 }),
        }),
      })
      .pipe(Effect.map(toResult))
  }

  // Called for every generation call: a span without the stack capture of Effect.fn (issue #24).
  const generate = Effect.fnUntraced(function* (request: GenerationRequest, onSample?: SampleListener) {
    const capabilities = yield* pool.capabilities
    // Never n > 1 at temperature 0: vLLM refuses it (sampling_params.py _verify_greedy_sampling, a 400). N single
    // calls instead, which on V0 cost what its N child requests would have cost anyway.
    const greedy = request.sampling.temperature < GREEDY_BELOW
    const parts = splitSamples(request.n, capabilities.n && !greedy ? options.maxSamplesPerRequest : 1)
    const firsts = parts.map((_, part) => parts.slice(0, part).reduce((sum, n) => sum + n, 0))
    // One request (the usual case) runs on this fiber: a fork per call for nothing to run beside it was a share of
    // the gateway's CPU per upstream call (issue #24).
    const results =
      parts.length === 1
        ? [yield* call(request, capabilities, parts[0]!, 0, 0, onSample)]
        : yield* Effect.forEach(parts, (n, part) => call(request, capabilities, n, part, firsts[part]!, onSample), {
            concurrency: "unbounded",
          })
    return yield* fillUp(request, capabilities, results, parts.length)
  }, inSpan("FleetGenerator.generate"))

  /** A server that answered fewer samples than asked (it ignores n, or caps it): the rest, one request each. */
  const fillUp = (
    request: GenerationRequest,
    capabilities: Capabilities,
    results: ReadonlyArray<GenerationResult>,
    nextPart: number,
  ): Effect.Effect<GenerationResult, Effect.Error<ReturnType<Pool["complete"]>>> => {
    // One complete answer (the usual case) is the result as it is: merging one part copies it for nothing.
    const only = results.length === 1 ? results[0]! : undefined
    if (only !== undefined && only.samples.length >= request.n) return Effect.succeed(only)
    const merged = mergeResults(results)
    const missing = request.n - merged.samples.length
    if (missing <= 0) return Effect.succeed(merged)
    return Effect.map(
      Effect.forEach(
        Array.from({ length: missing }, (_, i) => nextPart + i),
        // Heard at the end with the rest: their indices are known only once every part has answered.
        (part) => call(request, capabilities, 1, part, 0, undefined),
        { concurrency: "unbounded" },
      ),
      (extra) => mergeResults([merged, ...extra]),
    )
  }

  return CandidateGenerator.of({ generate })
}

export const FleetGenerator = {
  /** The search's CandidateGenerator over the fleet's pool named `pool`. */
  layer: (options: FleetGeneratorOptions & { readonly pool: string }): Layer.Layer<CandidateGenerator, never, Fleet> =>
    Layer.effect(
      CandidateGenerator,
      Effect.gen(function* () {
        const fleet = yield* Fleet
        return makeFleetGenerator(yield* fleet.pool(options.pool), options)
      }),
    ),
}
