import { RATING_LABELS, ratingMessages } from "@stagebeam/cot"
import { choiceConstraint, type Pool, type TokenLogprob } from "@stagebeam/fleet"
import type { PointwiseJudging, ScoreInput, Scores } from "@stagebeam/search"
import { Effect } from "effect"
import { criticalPathPriority, type JudgeDeclaration, type JudgeKind, seesImage } from "./JudgeKind.ts"

/** A rating is one digit: a few tokens are plenty. */
const RATING_MAX_TOKENS = 4

/**
 * The score of a rating answer: the expectation of the digit under the logprobs of the first token (the digits the
 * server listed, renormalised), else the digit given, else the first digit 1–9 in the text; NaN without any.
 */
export const ratingScore = (raw: string, first: TokenLogprob | undefined): number => {
  if (first !== undefined) {
    const seen = new Map<string, number>()
    for (const entry of [{ token: first.token, logprob: first.logprob }, ...(first.top_logprobs ?? [])]) {
      const digit = entry.token.trim()
      if ((RATING_LABELS as ReadonlyArray<string>).includes(digit) && !seen.has(digit)) seen.set(digit, entry.logprob)
    }
    const weights = [...seen].map(([digit, logprob]) => [Number(digit), Math.exp(logprob)] as const)
    const total = weights.reduce((sum, [, p]) => sum + p, 0)
    if (total > 0) return weights.reduce((sum, [digit, p]) => sum + digit * p, 0) / total
  }
  const digit = /[1-9]/.exec(raw)?.[0]
  return digit === undefined ? Number.NaN : Number(digit)
}

/**
 * A chat model asked for a score: one digit 1–9 per response (constrained where the pool can, with the nine digits'
 * logprobs), the expectation of the digit its score, each response one call, all in parallel. A rating without a
 * digit scores lowest.
 */
export const makeRatingJudge = (pool: Pool, declaration: JudgeDeclaration): PointwiseJudging => {
  const rateOne = (input: ScoreInput, response: string, index: number) =>
    Effect.gen(function* () {
      const capabilities = yield* pool.capabilities
      const imageUrl = capabilities.images && seesImage(declaration, input.kind) ? input.imageUrl : undefined
      const result = yield* pool.complete(
        {
          messages: ratingMessages(input.kind, { question: input.question, response, imageUrl }),
          seed: (input.seed + index) >>> 0,
          // The score is the expectation over the digits' logprobs: raw ones (vLLM's V0 engine returns them after
          // temperature and top-p), so temperature 1 and no nucleus.
          temperature: 1,
          top_p: 1,
          max_tokens: RATING_MAX_TOKENS,
          ...choiceConstraint(capabilities, RATING_LABELS),
          ...(capabilities.logprobs && { logprobs: true, top_logprobs: RATING_LABELS.length }),
          ...criticalPathPriority(capabilities),
        },
        { label: `rate-${input.kind.toLowerCase()}` },
      )
      const choice = result.completion.choices[0]
      const score = ratingScore(choice?.message.content ?? "", choice?.logprobs?.[0])
      return {
        score: Number.isFinite(score) ? score : 0,
        server: result.server,
        promptTokens: result.completion.usage.prompt_tokens,
        completionTokens: result.completion.usage.completion_tokens,
        estimated: result.completion.usage.estimated === true,
      }
    })

  const score = Effect.fn("RatingJudge.score")(function* (input: ScoreInput) {
    const each = yield* Effect.all(
      input.responses.map((response, i) => rateOne(input, response, i)),
      { concurrency: "unbounded" },
    )
    return {
      scores: each.map((one) => one.score),
      server: each[0]?.server ?? "",
      promptTokens: each.reduce((sum, one) => sum + one.promptTokens, 0),
      completionTokens: each.reduce((sum, one) => sum + one.completionTokens, 0),
      calls: each.length,
      ...(each.some((one) => one.estimated) && { tokensEstimated: true }),
    } satisfies Scores
  })
  return { score }
}

/** `kind: rating`: a chat model asked for a 1–9 score, its expectation from the logprobs (option: images). */
export const ratingKind: JudgeKind = {
  name: "rating",
  judging: "pointwise",
  make: (pool, declaration) => Effect.succeed(makeRatingJudge(pool, declaration)),
}
