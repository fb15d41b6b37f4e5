import {
  correctnessMessages,
  DEFAULTS,
  judgeMessages,
  parseCorrectness,
  parseVerdict,
  type Sampling,
} from "@stagebeam/cot"
import type { ChatRequest, ChatResult, Pool } from "@stagebeam/fleet"
import { type CorrectnessInput, decideVerdict, type Judge, type MatchInput } from "@stagebeam/search"
import { Effect } from "effect"

/** The reference samples verdicts like answers (0.6 / 0.9 / 2048 tokens). */
const REFERENCE_SAMPLING: Sampling = {
  temperature: DEFAULTS.temperature,
  topP: DEFAULTS.topP,
  maxTokens: DEFAULTS.maxTokens,
}

const firstText = (result: ChatResult): string => result.completion.choices[0]?.message.content ?? ""

/** Marks counts the server did not report (the pool estimated them). */
const estimated = (result: ChatResult) => (result.completion.usage.estimated === true ? { tokensEstimated: true } : {})

/**
 * A judge that asks a chat model on a pool, with the reference's prompts, which of two responses is better.
 * Over the generator's pool it is the paper's self-judge; over another pool it is a separate judge model.
 * A failed call fails with the pool's own error (server, kind, status), kept whole.
 */
export const makePairwiseJudge = (pool: Pool, sampling: Sampling = REFERENCE_SAMPLING): Judge["Service"] => {
  const ask = (request: Omit<ChatRequest, "temperature" | "top_p" | "max_tokens">, kind: string) =>
    pool.complete(
      { ...request, temperature: sampling.temperature, top_p: sampling.topP, max_tokens: sampling.maxTokens },
      { label: `judge-${kind.toLowerCase()}` },
    )

  /**
   * One verdict with the responses in the match's order; a verdict cut off by length names no response. A judge
   * pool that takes no images is shown the question and the responses only.
   */
  const askVerdict = (match: MatchInput) =>
    Effect.map(
      Effect.flatMap(pool.capabilities, (capabilities) =>
        ask(
          {
            messages: judgeMessages(
              match.kind,
              {
                question: match.question,
                hint: match.hint,
                first: match.first,
                second: match.second,
                imageUrl: capabilities.images ? match.imageUrl : undefined,
              },
              match.wording,
            ),
            seed: match.seed,
          },
          match.kind,
        ),
      ),
      (result) => {
        const raw = firstText(result)
        const parsed = parseVerdict(raw)
        const complete = result.completion.choices[0]?.finish_reason !== "length"
        return {
          ...parsed,
          explicit: parsed.explicit && complete,
          raw,
          server: result.server,
          promptTokens: result.completion.usage.prompt_tokens,
          completionTokens: result.completion.usage.completion_tokens,
          ...estimated(result),
        }
      },
    )

  /** The reference's verdict, and what to do when it names neither response as the match asks (decideVerdict). */
  const compare = Effect.fn("PairwiseJudge.compare")(function* (match: MatchInput) {
    return yield* decideVerdict(match, askVerdict)
  })

  const checkReasoning = Effect.fn("PairwiseJudge.checkReasoning")(function* (input: CorrectnessInput) {
    const result = yield* ask(
      {
        messages: correctnessMessages({ hint: input.hint, reasoning: input.reasoning }, input.wording),
        seed: input.seed,
      },
      "check",
    )
    const raw = firstText(result)
    return {
      correct: parseCorrectness(raw).correct,
      raw,
      server: result.server,
      promptTokens: result.completion.usage.prompt_tokens,
      completionTokens: result.completion.usage.completion_tokens,
      ...estimated(result),
    }
  })

  return { compare, checkReasoning }
}
