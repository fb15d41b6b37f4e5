import { scoreMessages, scoreQuery } from "@stagebeam/cot"
import { type Pool, UpstreamError } from "@stagebeam/fleet"
import type { PointwiseJudging, ScoreInput, Scores } from "@stagebeam/search"
import { Effect, Predicate, Schema } from "effect"
import { criticalPathPriority, type JudgeDeclaration, type JudgeKind, seesImage } from "./JudgeKind.ts"

const Usage = Schema.Struct({ prompt_tokens: Schema.Number })

/**
 * vLLM's PoolingResponse: `data[i].data` is the pooler's output for input i: a reward per token (`[[r], …]`, the
 * default ALL pooling of reward models), one vector (`[r]`, LAST pooling), or a number.
 */
const PoolingResponse = Schema.Struct({
  data: Schema.Array(
    Schema.Struct({
      index: Schema.Number,
      data: Schema.Union([Schema.Number, Schema.Array(Schema.Number), Schema.Array(Schema.Array(Schema.Number))]),
    }),
  ),
  usage: Schema.optional(Usage),
})

/** vLLM's ScoreResponse: one score per (text_1, text_2) pair. */
const ScoreResponse = Schema.Struct({
  data: Schema.Array(Schema.Struct({ index: Schema.Number, score: Schema.Number })),
  usage: Schema.optional(Usage),
})

const decodePooling = Schema.decodeUnknownEffect(PoolingResponse)
const decodeScore = Schema.decodeUnknownEffect(ScoreResponse)

/**
 * The sequence's reward from a pooler output: its last number (the last token's reward under ALL pooling, the single
 * label of a LAST-pooled reward head, a bare number).
 */
export const rewardOf = (data: (typeof PoolingResponse.Type)["data"][number]["data"]): number => {
  if (Predicate.isNumber(data)) return data
  const last = data[data.length - 1]
  if (last === undefined) return Number.NaN
  return Predicate.isNumber(last) ? last : (last[last.length - 1] ?? Number.NaN)
}

const malformed = (pool: Pool, server: string, what: string) => (issue: unknown) =>
  new UpstreamError({
    pool: pool.name,
    server,
    kind: "malformed",
    message: `the answer is not ${what}: ${String(issue)}`,
  })

/**
 * A reward model served by vLLM's pooling API (`/pooling`, a model run with `--task reward`): each response is one
 * conversation, [image, question + the stage's instruction] then the response as the assistant's turn (as swires.py
 * asks internlm-xcomposer2d5-7b-reward), scored in parallel calls (a chat-format pooling request takes one
 * conversation). Higher is better.
 */
export const makeRewardJudge = (pool: Pool, declaration: JudgeDeclaration): PointwiseJudging => {
  const scoreOne = (input: ScoreInput, response: string) =>
    Effect.gen(function* () {
      const capabilities = yield* pool.capabilities
      // Only to a pool declared `images: true`: every reward model vLLM 0.10.2 serves (InternLM2, Qwen2 RM/PRM,
      // sequence classifiers) is text-only and refuses an image, and a probe cannot tell (capabilities assume images).
      const imageUrl =
        pool.declaredCapabilities?.images === true && seesImage(declaration, input.kind) ? input.imageUrl : undefined
      const { json, server } = yield* pool.post(
        "/pooling",
        {
          messages: scoreMessages(input.kind, { question: input.question, response, imageUrl }),
          ...criticalPathPriority(capabilities),
        },
        { label: `score-${input.kind.toLowerCase()}`, sequences: 1 },
      )
      const decoded = yield* decodePooling(json).pipe(Effect.mapError(malformed(pool, server, "a pooling response")))
      const first = decoded.data.find((item) => item.index === 0) ?? decoded.data[0]
      const score = first === undefined ? Number.NaN : rewardOf(first.data)
      if (!Number.isFinite(score)) {
        return yield* malformed(pool, server, "a pooling response with a reward")(JSON.stringify(first?.data))
      }
      return { score, server, promptTokens: decoded.usage?.prompt_tokens ?? 0 }
    })

  const score = Effect.fn("RewardJudge.score")(function* (input: ScoreInput) {
    const each = yield* Effect.all(
      input.responses.map((response) => scoreOne(input, response)),
      { concurrency: "unbounded" },
    )
    return {
      scores: each.map((one) => one.score),
      server: each[0]?.server ?? "",
      promptTokens: each.reduce((sum, one) => sum + one.promptTokens, 0),
      completionTokens: 0,
      calls: each.length,
    } satisfies Scores
  })
  return { score }
}

/**
 * A cross-encoder served by vLLM's score API (`/score`, a model run with `--task score`): one call scores every
 * response against the question (+ the stage's instruction), `text_1` one query and `text_2` the responses (1:N).
 * Text only. Higher is better.
 */
export const makeCrossEncoderJudge = (pool: Pool): PointwiseJudging => {
  const score = Effect.fn("CrossEncoderJudge.score")(function* (input: ScoreInput) {
    const { json, server } = yield* pool.post(
      "/score",
      { text_1: scoreQuery(input.kind, input.question), text_2: input.responses },
      { label: `score-${input.kind.toLowerCase()}`, sequences: input.responses.length },
    )
    const decoded = yield* decodeScore(json).pipe(Effect.mapError(malformed(pool, server, "a score response")))
    const byIndex = new Map(decoded.data.map((item) => [item.index, item.score]))
    const scores = input.responses.map((_, i) => byIndex.get(i) ?? Number.NaN)
    if (scores.some((value) => !Number.isFinite(value))) {
      return yield* malformed(pool, server, "a score for every response")(JSON.stringify(decoded.data))
    }
    return {
      scores,
      server,
      promptTokens: decoded.usage?.prompt_tokens ?? 0,
      completionTokens: 0,
      calls: 1,
    } satisfies Scores
  })
  return { score }
}

/** `kind: reward`: a reward model on vLLM's /pooling (option: images). */
export const rewardKind: JudgeKind = {
  name: "reward",
  judging: "pointwise",
  make: (pool, declaration) => Effect.succeed(makeRewardJudge(pool, declaration)),
}

/** `kind: cross-encoder`: a cross-encoder on vLLM's /score. */
export const crossEncoderKind: JudgeKind = {
  name: "cross-encoder",
  judging: "pointwise",
  make: (pool) => Effect.succeed(makeCrossEncoderJudge(pool)),
}
