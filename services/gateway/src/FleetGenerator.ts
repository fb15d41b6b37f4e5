import { continuationFlags, continuationMessages } from "@stagebeam/cot"
import { type ChatResult, describeFleetError, GeneratorPool } from "@stagebeam/fleet"
import {
  CandidateGenerator,
  type GeneratedText,
  GenerationError,
  type GenerationRequest,
  type GenerationResult,
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
    server: result.endpoint,
  }
}

/** Label for the upstream request id: what the call samples. */
const labelOf = (request: GenerationRequest): string => {
  const stop = request.stop.find((s) => s.startsWith("</"))
  return stop === undefined ? "gen" : `gen-${stop.slice(2, -1).toLowerCase()}`
}

/**
 * Samples candidates on the generator pool: one request with n = N continuing the chosen prefix, so the server
 * prefills the prompt and the image once for all N, stopping at the stage's closing tag and keeping it.
 */
export const fleetGeneratorLayer: Layer.Layer<CandidateGenerator, never, GeneratorPool> = Layer.effect(
  CandidateGenerator,
  Effect.gen(function* () {
    const pool = yield* GeneratorPool
    const generate = Effect.fn("FleetGenerator.generate")(function* (request: GenerationRequest) {
      const result = yield* pool
        .complete(
          {
            messages: continuationMessages(request.question, request.imageUrl, request.prefix),
            ...continuationFlags(request.prefix),
            n: request.n,
            seed: request.seed,
            temperature: request.sampling.temperature,
            top_p: request.sampling.topP,
            max_tokens: request.sampling.maxTokens,
            ...(request.stop.length > 0 ? { stop: request.stop, include_stop_str_in_output: true } : {}),
          },
          { label: labelOf(request) },
        )
        .pipe(Effect.mapError((error) => new GenerationError(describeFleetError(error))))
      return toResult(result)
    })
    return CandidateGenerator.of({ generate })
  }),
)
