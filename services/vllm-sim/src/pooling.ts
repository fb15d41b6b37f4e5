// POST /pooling (a reward model: one scalar per input, or per token) and POST /score (a cross-encoder: one score per
// text pair), as vLLM v0.10 serves them (vllm/entrypoints/openai/protocol.py: PoolingRequest = EmbeddingCompletionRequest
// {input} | EmbeddingChatRequest {messages}, PoolingResponse {data: [{index, object: "pooling", data}]}; ScoreRequest
// {text_1, text_2}, ScoreResponse {data: [{index, object: "score", score}]}). Each input is one engine request that
// only prefills, so pooling costs GPU time on the same model as generation.
import type { ServerResponse } from "node:http"
import { Result, Schema } from "effect"
import { sendError, sendJson } from "./chat.ts"
import { parseQuestion } from "./content/question.ts"
import { crossEncoderScore, rewardScore } from "./content/reward.ts"
import type { SimContext } from "./context.ts"
import { type ApiError, badRequest, errorForStatus, notFound } from "./errors.ts"
import { promptTiles } from "./images.ts"
import { renderPrompt } from "./prompt.ts"
import { ChatMessage } from "./request.ts"
import { encode } from "./tokens.ts"

// Declared beside SimContext (which knows the task of its model) so context.ts imports nothing from here.
export type { Task } from "./context.ts"

const TextInput = Schema.Union([Schema.String, Schema.Array(Schema.String)])

const PoolingBody = Schema.Struct({
  model: Schema.optionalKey(Schema.NullOr(Schema.String)),
  input: Schema.optionalKey(TextInput),
  messages: Schema.optionalKey(Schema.Array(ChatMessage)),
})

const ScoreBody = Schema.Struct({
  model: Schema.optionalKey(Schema.NullOr(Schema.String)),
  text_1: TextInput,
  text_2: TextInput,
})

const decodePooling = Schema.decodeUnknownResult(PoolingBody)
const decodeScore = Schema.decodeUnknownResult(ScoreBody)

const listOf = (input: string | ReadonlyArray<string>): ReadonlyArray<string> =>
  typeof input === "string" ? [input] : input

/** One pooled input: its tokens and images (for the cost), and the question and response it is about. */
interface Pooled {
  readonly tokens: number
  readonly images: number
  readonly imageTiles: number
  readonly question: string
  readonly response: string
}

const randomHex = () => crypto.randomUUID().replaceAll("-", "")

/** Runs each input as a prefill-only engine request; resolves when all are done (undefined if the client left). */
const prefillAll = (ctx: SimContext, res: ServerResponse, id: string, inputs: ReadonlyArray<Pooled>) =>
  new Promise<boolean>((resolve) => {
    let left = inputs.length
    let finished = false
    const ids = inputs.map((_, i) => `${id}#${ctx.requestCounter++}.${i}`)
    res.on("close", () => {
      if (finished) return
      for (const engineId of ids) ctx.engine.abort(engineId)
      resolve(false)
    })
    inputs.forEach((input, i) => {
      ctx.engine.submit({
        id: ids[i]!,
        priority: 0,
        textTokens: input.tokens,
        images: input.images,
        imageTiles: input.imageTiles,
        blockHashes: [],
        // Pooling produces no text: the prefill's one step is all the work.
        sampleTokens: [1],
        onUpdate: (view) => {
          if (!view.done) return
          left--
          if (left === 0) {
            finished = true
            resolve(true)
          }
        },
      })
    })
  })

const contextCheck = (ctx: SimContext, inputs: ReadonlyArray<Pooled>): ApiError | undefined => {
  const longest = Math.max(...inputs.map((input) => input.tokens))
  const limit = ctx.profile.maxModelLen
  return longest > limit
    ? badRequest(
        `This model's maximum context length is ${limit} tokens. However, you requested ${longest} tokens in the input for embedding generation. Please reduce the length of the input.`,
      )
    : undefined
}

const usageOf = (inputs: ReadonlyArray<Pooled>, tokensPerTile: number) => {
  const prompt = inputs.reduce((sum, input) => sum + input.tokens - input.images + input.imageTiles * tokensPerTile, 0)
  return { prompt_tokens: prompt, total_tokens: prompt, completion_tokens: 0, prompt_tokens_details: null }
}

const checkModel = (ctx: SimContext, model: string | null | undefined): ApiError | undefined =>
  model != null && model !== ctx.model ? notFound(`The model \`${model}\` does not exist.`) : undefined

/** Per-token rewards when the pooler is ALL (vLLM's default for reward models): the sequence's reward at its end. */
const poolingData = (ctx: SimContext, input: Pooled): ReadonlyArray<number> | ReadonlyArray<ReadonlyArray<number>> => {
  const score = rewardScore(input.response, parseQuestion(input.question), ctx.rewardNoise)
  if (ctx.poolingType === "LAST") return [score]
  const tokens = Math.max(1, input.tokens)
  return Array.from({ length: tokens }, (_, i) => [i === tokens - 1 ? score : REWARD_FILL])
}

/** What a reward head outputs at tokens before the last (not used by sequence-level scoring). */
const REWARD_FILL = 0

/** A dead or loading server answers pooling as it answers chat. */
const unavailable = (ctx: SimContext): ApiError | undefined =>
  ctx.faults.dead === true
    ? errorForStatus(500, "EngineCore encountered an issue. See stack trace for the root cause.")
    : performance.now() < ctx.readyAtWall
      ? errorForStatus(503, "The server is still loading the model.")
      : undefined

const API_NAME = { reward: "Pooling API", score: "Score API" } as const

/**
 * The checks both routes make before any work, in vLLM's order: a dead or loading server, a model without the
 * task, a body that is not JSON or not the request, another model's name. Undefined once the error is sent.
 */
const readBody = <B extends { readonly model?: string | null | undefined }>(
  ctx: SimContext,
  res: ServerResponse,
  rawBody: string,
  task: keyof typeof API_NAME,
  decode: (input: unknown) => Result.Result<B, { readonly message: string }>,
): B | undefined => {
  const down = unavailable(ctx)
  if (down !== undefined) return void sendError(ctx, res, down)
  if (ctx.task !== task) {
    ctx.outcomes.error++
    return void sendError(ctx, res, badRequest(`The model does not support ${API_NAME[task]}`))
  }
  const parsed = parseJson(rawBody)
  if (parsed instanceof Error) return void sendError(ctx, res, badRequest(`JSON decode error: ${parsed.message}`))
  const decoded = decode(parsed)
  if (Result.isFailure(decoded))
    return void sendError(ctx, res, badRequest(`Invalid request: ${decoded.failure.message}`))
  const wrongModel = checkModel(ctx, decoded.success.model)
  if (wrongModel !== undefined) return void sendError(ctx, res, wrongModel)
  return decoded.success
}

export const handlePooling = async (ctx: SimContext, res: ServerResponse, rawBody: string) => {
  const body = readBody(ctx, res, rawBody, "reward", decodePooling)
  if (body === undefined) return
  let inputs: Array<Pooled>
  if (body.messages !== undefined) {
    // A chat-format input: the user turn (image and question), then the assistant turn being scored.
    const rendered = renderPrompt(
      { messages: body.messages, add_generation_prompt: false },
      ctx.profile.maxImagesPerPrompt,
    )
    if ("error" in rendered) return sendError(ctx, res, rendered.error)
    const response = body.messages
      .filter((message) => message.role === "assistant")
      .map((message) => (typeof message.content === "string" ? message.content : ""))
      .join("")
    inputs = [
      {
        tokens: rendered.ok.tokenIds.length,
        images: rendered.ok.images,
        imageTiles: promptTiles(rendered.ok.imageSizes, ctx.profile.tileSize, ctx.profile.maxTiles),
        question: rendered.ok.questionText,
        response,
      },
    ]
  } else if (body.input !== undefined) {
    inputs = listOf(body.input).map((text) => ({
      tokens: encode(text).length + 1,
      images: 0,
      imageTiles: 0,
      question: "",
      response: text,
    }))
  } else {
    return sendError(ctx, res, badRequest("Invalid request: either `input` or `messages` must be given.", "input"))
  }
  if (inputs.length === 0) return sendError(ctx, res, badRequest("Input must not be empty.", "input"))
  const tooLong = contextCheck(ctx, inputs)
  if (tooLong !== undefined) return sendError(ctx, res, tooLong)
  const id = `pool-${randomHex()}`
  if (!(await prefillAll(ctx, res, id, inputs))) return
  sendJson(res, 200, {
    id,
    object: "list",
    created: Math.floor(Date.now() / 1000),
    model: ctx.model,
    data: inputs.map((input, index) => ({ index, object: "pooling", data: poolingData(ctx, input) })),
    usage: usageOf(inputs, ctx.profile.tokensPerTile),
  })
}

export const handleScore = async (ctx: SimContext, res: ServerResponse, rawBody: string) => {
  const body = readBody(ctx, res, rawBody, "score", decodeScore)
  if (body === undefined) return
  const first = listOf(body.text_1)
  const second = listOf(body.text_2)
  // vLLM's own checks (entrypoints/score_utils.py), in its words.
  if (first.length > 1 && first.length !== second.length)
    return sendError(ctx, res, badRequest("Input lengths must be either 1:1, 1:N or N:N"))
  if (first.length === 0) return sendError(ctx, res, badRequest("At least one text element must be given"))
  if (second.length === 0) return sendError(ctx, res, badRequest("At least one text_pair element must be given"))
  const pairs = second.map((text, i) => ({ query: first.length === 1 ? first[0]! : first[i]!, text }))
  const inputs = pairs.map(
    (pair): Pooled => ({
      tokens: encode(pair.query).length + encode(pair.text).length + 2,
      images: 0,
      imageTiles: 0,
      question: pair.query,
      response: pair.text,
    }),
  )
  const tooLong = contextCheck(ctx, inputs)
  if (tooLong !== undefined) return sendError(ctx, res, tooLong)
  const id = `score-${randomHex()}`
  if (!(await prefillAll(ctx, res, id, inputs))) return
  sendJson(res, 200, {
    id,
    object: "list",
    created: Math.floor(Date.now() / 1000),
    model: ctx.model,
    data: inputs.map((input, index) => ({
      index,
      object: "score",
      score: crossEncoderScore(input.response, parseQuestion(input.question), ctx.rewardNoise),
    })),
    usage: usageOf(inputs, ctx.profile.tokensPerTile),
  })
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch (error) {
    return error as Error
  }
}
