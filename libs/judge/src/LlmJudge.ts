import { correctnessMessages, judgeMessages, parseCorrectness, parseVerdict } from "@stagebeam/cot"
import type { ChatRequest, ChatResult, NoCapacity, Pool, UpstreamError } from "@stagebeam/fleet"
import { type CorrectnessInput, type Judge, JudgeError, type MatchInput } from "@stagebeam/search"
import { Effect } from "effect"

/** Sampling of judge calls: the reference samples verdicts like answers (0.6 / 0.9); a verdict is one sentence. */
export interface JudgeSampling {
  readonly temperature: number
  readonly topP: number
  readonly maxTokens: number
}

export const DEFAULT_JUDGE_SAMPLING: JudgeSampling = { temperature: 0.6, topP: 0.9, maxTokens: 512 }

const toJudgeError = (error: UpstreamError | NoCapacity): JudgeError =>
  new JudgeError({
    message: error._tag === "NoCapacity" ? error.message : `${error.endpoint}: ${error.message}`,
    retryable: error._tag === "NoCapacity" || error.retryable,
  })

const firstText = (result: ChatResult): string => result.completion.choices[0]?.message.content ?? ""

/**
 * A judge that asks a chat model, with the reference's prompts, which of two responses is better.
 * Over the generator pool it is the paper's self-judge; over another pool it is a separate judge model.
 */
export const makeLlmJudge = (pool: Pool, sampling: JudgeSampling = DEFAULT_JUDGE_SAMPLING): Judge["Service"] => {
  const ask = (request: Omit<ChatRequest, "temperature" | "top_p" | "max_tokens">, kind: string) =>
    pool
      .complete(
        { ...request, temperature: sampling.temperature, top_p: sampling.topP, max_tokens: sampling.maxTokens },
        { label: `judge-${kind.toLowerCase()}` },
      )
      .pipe(Effect.mapError(toJudgeError))

  const compare = Effect.fn("LlmJudge.compare")(function* (match: MatchInput) {
    const result = yield* ask(
      {
        messages: judgeMessages(match.kind, {
          question: match.question,
          hint: match.hint,
          first: match.first,
          second: match.second,
          imageUrl: match.imageUrl,
        }),
        seed: match.seed,
      },
      match.kind,
    )
    const raw = firstText(result)
    const verdict = parseVerdict(raw)
    return {
      winner: verdict.winner,
      explicit: verdict.explicit,
      raw,
      server: result.endpoint,
      promptTokens: result.completion.usage.prompt_tokens,
      completionTokens: result.completion.usage.completion_tokens,
    }
  })

  const checkReasoning = Effect.fn("LlmJudge.checkReasoning")(function* (input: CorrectnessInput) {
    const result = yield* ask(
      { messages: correctnessMessages({ hint: input.hint, reasoning: input.reasoning }), seed: input.seed },
      "check",
    )
    const raw = firstText(result)
    return {
      correct: parseCorrectness(raw).correct,
      raw,
      server: result.endpoint,
      promptTokens: result.completion.usage.prompt_tokens,
      completionTokens: result.completion.usage.completion_tokens,
    }
  })

  return { compare, checkReasoning }
}
