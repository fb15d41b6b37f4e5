import type { Strategy } from "@stagebeam/cot"
import { countTokens, loadTokenizer, type Pool } from "@stagebeam/fleet"
import { Effect, Layer } from "effect"
import { invalidField, Unsupported } from "./GatewayErrors.ts"

/** Tokens of the chat template around the question and the image placeholder, kept back from the context. */
const TEMPLATE_TOKENS = 16

/** The strategies whose calls continue a partial answer (every call after the first stage or sentence). */
const CONTINUING: ReadonlySet<Strategy> = new Set(["STAGE_BEAM", "SENTENCE_BEAM", "SWIRES"])

/**
 * Refuses, before admission, a request the generator pool's servers cannot serve as asked, naming the pool and
 * the capability: no fallback would give the answer the strategy promises (re-asking a model that cannot continue
 * would judge candidates it did not write after the chosen prefix).
 */
export const checkSupported = Effect.fnUntraced(function* (
  pool: Pool,
  request: {
    readonly strategy: Strategy
    readonly hasImage: boolean
    readonly question: string
    readonly maxTokens: number
  },
) {
  const capabilities = yield* pool.capabilities
  // The servers' context bounds what a call may ask for: a request that cannot fit would fail on every call.
  const context = capabilities.maxContext
  if (context !== undefined) {
    if (request.maxTokens + TEMPLATE_TOKENS >= context) {
      return yield* invalidField(
        ["sampling", "maxTokens"],
        `is ${request.maxTokens}; the ${pool.name} pool serves a context of ${context} tokens, so at most ` +
          `${context - TEMPLATE_TOKENS - 1}`,
      )
    }
    // Llama 3's tokenizer is byte-level BPE: a token is at least one UTF-8 byte, so a question that fits by its bytes
    // fits by its tokens and is not counted (the tokenizer costs ~4 µs a character here, on every request); a count
    // is capped at the bytes too, since past its exact part countTokens extrapolates and can overshoot them.
    const questionBytes = Buffer.byteLength(request.question, "utf8")
    if (questionBytes + request.maxTokens + TEMPLATE_TOKENS > context) {
      const questionTokens = Math.min(yield* countTokens(request.question), questionBytes)
      if (questionTokens + request.maxTokens + TEMPLATE_TOKENS > context) {
        return yield* invalidField(
          ["question"],
          // "max_tokens": the leaf both doors share (search.sampling.max_tokens, or a chat request's max_tokens).
          `is ${questionTokens} tokens; with max_tokens ${request.maxTokens} it does not fit the ` +
            `${pool.name} pool's context of ${context} tokens (at most ${context - request.maxTokens - TEMPLATE_TOKENS})`,
        )
      }
    }
  }
  if (CONTINUING.has(request.strategy) && !capabilities.continuation) {
    return yield* new Unsupported({
      pool: pool.name,
      capability: "continuation",
      message:
        `the ${pool.name} pool cannot run ${request.strategy}: its servers do not continue a partial assistant ` +
        `message (capability "continuation"); BEST_OF_N and GREEDY work on them (declare ` +
        `pools.${pool.name}.capabilities.continuation: true if they do continue)`,
    })
  }
  if (request.hasImage && !capabilities.images) {
    return yield* new Unsupported({
      pool: pool.name,
      capability: "images",
      message: `the ${pool.name} pool's servers take no images (capability "images"): ask without an image`,
    })
  }
})

/** Loads the tokenizer the checks above count with before the doors open (its load holds the event loop ~1 s). */
export const tokenizerLayer = Layer.effectDiscard(loadTokenizer)
