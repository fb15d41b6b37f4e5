import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import {
  candidateQuality,
  REWARD_MEAN,
  REWARD_STD,
  type RunningSimulator,
  startSimulator,
  syntheticQuestions,
} from "../src/index.ts"
import { mcQuestion, postChat, userTurn } from "./helpers.ts"

let reward: RunningSimulator
let lastPooling: RunningSimulator
let crossEncoder: RunningSimulator
let generator: RunningSimulator

beforeAll(async () => {
  reward = await startSimulator({ speed: 500, task: "reward", model: "internlm/internlm-xcomposer2d5-7b-reward" })
  lastPooling = await startSimulator({ speed: 500, task: "reward", poolingType: "LAST", rewardNoise: 0 })
  crossEncoder = await startSimulator({ speed: 500, task: "score", model: "cross-encoder" })
  generator = await startSimulator({ speed: 500 })
})
afterAll(async () => {
  await Promise.all([reward.close(), lastPooling.close(), crossEncoder.close(), generator.close()])
})

type PoolerOutput = number | ReadonlyArray<number> | ReadonlyArray<ReadonlyArray<number>>

/** The answers' fields these tests read (pooling, score, error and chat bodies). */
interface Answer {
  readonly id: string
  readonly object: string
  readonly data: ReadonlyArray<{
    readonly index: number
    readonly object: string
    readonly data: PoolerOutput
    readonly score: number
  }>
  readonly usage: { readonly prompt_tokens: number; readonly completion_tokens: number }
  readonly error: { readonly message: string }
  readonly choices: ReadonlyArray<{
    readonly logprobs: {
      readonly content: ReadonlyArray<{
        readonly token: string
        readonly logprob: number
        readonly top_logprobs: ReadonlyArray<{ readonly token: string; readonly logprob: number }>
      }>
    }
  }>
}

/** The last number of a pooler output (the sequence's reward). */
const lastNumber = (output: PoolerOutput): number => {
  if (typeof output === "number") return output
  const last = output[output.length - 1]
  return typeof last === "number" ? last : (last?.[last.length - 1] ?? Number.NaN)
}

const post = async (url: string, path: string, body: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  return { status: res.status, body: (await res.json()) as Answer }
}

const captions = Array.from({ length: 12 }, (_, i) => `The image shows umbrella number ${i}, standing on the left.`)

describe("POST /pooling on a reward model (vLLM's PoolingResponse)", () => {
  it("scores a chat-format input, a reward per token with the sequence's at the last token, counted as a prefill", async () => {
    const before = reward.stats()
    const { status, body } = await post(reward.url, "/pooling", {
      model: reward.model,
      messages: [
        userTurn(`${mcQuestion}\nPlease provide a detailed description.`),
        { role: "assistant", content: captions[0] },
      ],
    })
    assert.strictEqual(status, 200)
    assert.strictEqual(body.object, "list")
    assert.match(body.id, /^pool-/)
    assert.strictEqual(body.data.length, 1)
    const item = body.data[0]!
    assert.strictEqual(item.index, 0)
    assert.strictEqual(item.object, "pooling")
    // ALL pooling: a row per token.
    assert.isTrue(Array.isArray(item.data) && Array.isArray(item.data[0]))
    assert.isTrue(Number.isFinite(lastNumber(item.data)))
    // The image counts in the usage; the work is a prefill on the modelled GPU.
    assert.isAbove(body.usage.prompt_tokens, 6404)
    assert.strictEqual(body.usage.completion_tokens, 0)
    const after = reward.stats()
    assert.isAbove(after.prefillGpuSeconds, before.prefillGpuSeconds)
    assert.strictEqual(after.imagesEncoded, before.imagesEncoded + 1)
  })

  it("scores a list of inputs in one call; LAST pooling gives one number each, in the order of the latent quality", async () => {
    const { status, body } = await post(lastPooling.url, "/pooling", { input: captions })
    assert.strictEqual(status, 200)
    assert.strictEqual(body.data.length, captions.length)
    const scores = body.data.map((item) => lastNumber(item.data))
    assert.isTrue(body.data.every((item) => Array.isArray(item.data) && typeof item.data[0] === "number"))
    // Without noise the scores rank the texts exactly by their latent quality.
    const qualities = captions.map((text) => candidateQuality(text))
    const byScore = [...captions.keys()].sort((a, b) => scores[b]! - scores[a]!)
    const byQuality = [...captions.keys()].sort((a, b) => qualities[b]! - qualities[a]!)
    assert.deepStrictEqual(byScore, byQuality)
  })

  it("follows each candidate's quality with configurable noise, on the scale swires.py assumes", async () => {
    const questions = syntheticQuestions(30, 3)
    const texts = questions.flatMap((q) =>
      q.options
        .map((option) => `<CONCLUSION>The answer is ${option.letter}.</CONCLUSION>`)
        .map((text) => ({ q, text })),
    )
    const { body } = await post(reward.url, "/pooling", {
      input: texts.map(({ text }) => text),
    })
    const scores = body.data.map((item) => lastNumber(item.data))
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length
    assert.closeTo(mean, REWARD_MEAN, REWARD_STD / 2)
    // Per question with options, correct conclusions score higher on average than wrong ones.
    const scored = await Promise.all(
      questions.map(async (q) => {
        const { body: answer } = await post(reward.url, "/pooling", {
          messages: [
            userTurn(q.question),
            { role: "assistant", content: `<CONCLUSION>The answer is ${q.answer}.</CONCLUSION>` },
          ],
        })
        const wrong = q.options.find((option) => option.letter !== q.answer)!.letter
        const { body: other } = await post(reward.url, "/pooling", {
          messages: [
            userTurn(q.question),
            { role: "assistant", content: `<CONCLUSION>The answer is ${wrong}.</CONCLUSION>` },
          ],
        })
        return lastNumber(answer.data[0]!.data) > lastNumber(other.data[0]!.data)
      }),
    )
    assert.isAbove(scored.filter(Boolean).length, 20)
  })

  it("answers vLLM's errors: a generation model has no Pooling API, a reward model no chat, bad bodies are 400s", async () => {
    const notPooling = await post(generator.url, "/pooling", { input: "x" })
    assert.strictEqual(notPooling.status, 400)
    assert.strictEqual(notPooling.body.error.message, "The model does not support Pooling API")
    const chat = await postChat(reward.url, { messages: [userTurn("hi")] })
    assert.strictEqual(chat.status, 400)
    assert.strictEqual(((await chat.json()) as Answer).error.message, "The model does not support Chat Completions API")
    const neither = await post(reward.url, "/pooling", { model: reward.model })
    assert.strictEqual(neither.status, 400)
    const wrongModel = await post(reward.url, "/pooling", { model: "other", input: "x" })
    assert.strictEqual(wrongModel.status, 404)
    const tooLong = await post(reward.url, "/pooling", { input: "word ".repeat(9000) })
    assert.strictEqual(tooLong.status, 400)
    assert.include(tooLong.body.error.message, "maximum context length is 8192 tokens")
  })
})

describe("POST /score on a cross-encoder (vLLM's ScoreResponse)", () => {
  it("scores one query against N texts (1:N) and N:N pairs, in (0, 1)", async () => {
    const { status, body } = await post(crossEncoder.url, "/score", {
      text_1: mcQuestion,
      text_2: captions.slice(0, 3),
    })
    assert.strictEqual(status, 200)
    assert.deepStrictEqual(
      body.data.map((item: { index: number; object: string }) => [item.index, item.object]),
      [
        [0, "score"],
        [1, "score"],
        [2, "score"],
      ],
    )
    for (const item of body.data) assert.isTrue(item.score > 0 && item.score < 1)
    const pairs = await post(crossEncoder.url, "/v1/score", {
      text_1: [mcQuestion, mcQuestion],
      text_2: captions.slice(0, 2),
    })
    assert.strictEqual(pairs.body.data.length, 2)
    assert.strictEqual(pairs.body.data[0]?.score, body.data[0]?.score)
  })

  it("answers vLLM's errors for mismatched and empty inputs, and on a model without a Score API", async () => {
    const mismatched = await post(crossEncoder.url, "/score", { text_1: ["a", "b"], text_2: ["c", "d", "e"] })
    assert.strictEqual(mismatched.status, 400)
    assert.strictEqual(mismatched.body.error.message, "Input lengths must be either 1:1, 1:N or N:N")
    const empty = await post(crossEncoder.url, "/score", { text_1: [], text_2: ["c"] })
    assert.strictEqual(empty.body.error.message, "At least one text element must be given")
    const noPairs = await post(crossEncoder.url, "/score", { text_1: "a", text_2: [] })
    assert.strictEqual(noPairs.body.error.message, "At least one text_pair element must be given")
    const onReward = await post(reward.url, "/score", { text_1: "a", text_2: "b" })
    assert.strictEqual(onReward.body.error.message, "The model does not support Score API")
  })
})

describe("verdict and rating logprobs", () => {
  const judgePrompt = (first: string, second: string) =>
    [
      "Now you act as a judge, helping me determine which of the two texts I provide better describes the image.",
      `Question: ${mcQuestion}`,
      `Response 1: ${first}`,
      `Response 2: ${second}`,
      'Output format: "1" or "2", the number of the better response, and nothing else.',
    ].join("\n")

  it("a constrained verdict lists the other label with the rest of the probability", async () => {
    const res = await postChat(generator.url, {
      messages: [userTurn(judgePrompt(captions[0]!, captions[1]!))],
      // vLLM 0.10.2 (the default behaviour) constrains with guided_choice only.
      guided_choice: ["1", "2"],
      logprobs: true,
      top_logprobs: 2,
      max_tokens: 2,
      seed: 4,
    })
    const body = (await res.json()) as Answer
    const first = body.choices[0]!.logprobs.content[0]!
    const other = first.top_logprobs.find((entry) => entry.token !== first.token)!
    assert.include(["1", "2"], other.token)
    assert.closeTo(Math.exp(first.logprob) + Math.exp(other.logprob), 1, 1e-9)
  })

  it("a graded judge's margin grows with the quality gap; position bias shows in the logprobs", async () => {
    const graded = await startSimulator({ speed: 500, judgeNoise: 0, positionBias: 0.3 })
    try {
      const qualities = captions.map((text) => candidateQuality(text))
      const order = [...captions.keys()].sort((a, b) => qualities[a]! - qualities[b]!)
      const best = captions[order[order.length - 1]!]!
      const worst = captions[order[0]!]!
      const nextBest = captions[order[order.length - 2]!]!
      const p1 = async (first: string, second: string) => {
        const res = await postChat(graded.url, {
          messages: [userTurn(judgePrompt(first, second))],
          guided_choice: ["1", "2"],
          logprobs: true,
          top_logprobs: 2,
          max_tokens: 2,
          seed: 1,
        })
        const entry = ((await res.json()) as Answer).choices[0]!.logprobs.content[0]!
        const one = entry.top_logprobs.find((t) => t.token === "1")!
        return Math.exp(one.logprob)
      }
      const far = await p1(best, worst)
      const close = await p1(best, nextBest)
      assert.isAbove(far, close)
      // Swapped, the better one in position 2: the bias keeps P(1) up, but below the unswapped one.
      const swapped = await p1(worst, best)
      assert.isBelow(swapped, far)
      assert.isAbove(swapped, 0.3 - 1e-9)
    } finally {
      await graded.close()
    }
  })

  it("a rating prompt answers one digit 1–9, its logprobs the rating's distribution around the quality", async () => {
    const ratingPrompt = (response: string) =>
      [
        "Now you act as a judge, helping me rate how well the text I provide describes the question-relevant content of the image.",
        "",
        `Question: ${mcQuestion}`,
        `Response: ${response}`,
        "",
        "Output format: a single digit from 1 (poor) to 9 (excellent), and nothing else.",
      ].join("\n")
    const expectation = async (response: string) => {
      const res = await postChat(generator.url, {
        messages: [userTurn(ratingPrompt(response))],
        guided_choice: ["1", "2", "3", "4", "5", "6", "7", "8", "9"],
        logprobs: true,
        top_logprobs: 9,
        max_tokens: 2,
        seed: 3,
      })
      const entry = ((await res.json()) as Answer).choices[0]!.logprobs.content[0]!
      assert.strictEqual(entry.top_logprobs.length, 9)
      const weights = entry.top_logprobs.map((t) => ({ digit: Number(t.token), p: Math.exp(t.logprob) }))
      const total = weights.reduce((sum, { p }) => sum + p, 0)
      assert.closeTo(total, 1, 1e-6)
      return weights.reduce((sum, { digit, p }) => sum + digit * p, 0)
    }
    const qualities = captions.map((text) => candidateQuality(text))
    const hi = captions[qualities.indexOf(Math.max(...qualities))]!
    const lo = captions[qualities.indexOf(Math.min(...qualities))]!
    assert.isAbove(await expectation(hi), await expectation(lo))
  })
})
