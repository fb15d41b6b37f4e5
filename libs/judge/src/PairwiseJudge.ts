import {
  correctnessMessages,
  DEFAULTS,
  judgeMessages,
  parseCorrectness,
  parseVerdict,
  type Sampling,
} from "@stagebeam/cot"
import type { ChatRequest, ChatResult, Pool } from "@stagebeam/fleet"
import type { CorrectnessInput, Judge, MatchInput } from "@stagebeam/search"
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
   * One verdict with the responses in the given order; a verdict cut off by length names no response. A judge
   * pool that takes no images is shown the question and the responses only.
   */
  const askVerdict = (match: MatchInput, first: string, second: string, seed: number) =>
    Effect.map(
      Effect.flatMap(pool.capabilities, (capabilities) =>
        ask(
          {
            messages: judgeMessages(match.kind, {
              question: match.question,
              hint: match.hint,
              first,
              second,
              imageUrl: capabilities.images ? match.imageUrl : undefined,
            }),
            seed,
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

  /**
   * The reference's verdict; when it names neither response (or was cut off), one more ask with the responses
   * swapped, read back in the original order. Only if that fails too does the reference's default (the second)
   * stand, reported as not explicit.
   */
  const compare = Effect.fn("PairwiseJudge.compare")(function* (match: MatchInput) {
    const verdict = yield* askVerdict(match, match.first, match.second, match.seed)
    if (verdict.explicit) return verdict
    const swapped = yield* askVerdict(match, match.second, match.first, match.seed + 1)
    const tokens = {
      promptTokens: verdict.promptTokens + swapped.promptTokens,
      completionTokens: verdict.completionTokens + swapped.completionTokens,
      calls: 2,
      ...((verdict.tokensEstimated === true || swapped.tokensEstimated === true) && { tokensEstimated: true }),
    }
    if (!swapped.explicit) return { ...verdict, ...tokens, raw: `${verdict.raw}\n---\n${swapped.raw}` }
    return {
      ...swapped,
      ...tokens,
      winner: swapped.winner === 0 ? (1 as const) : (0 as const),
      raw: `${verdict.raw}\n--- asked again, responses swapped ---\n${swapped.raw}`,
    }
  })

  const checkReasoning = Effect.fn("PairwiseJudge.checkReasoning")(function* (input: CorrectnessInput) {
    const result = yield* ask(
      { messages: correctnessMessages({ hint: input.hint, reasoning: input.reasoning }), seed: input.seed },
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
