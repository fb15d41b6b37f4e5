import { assert, describe, it } from "@effect/vitest"
import { ASSUMED, type Pool } from "@stagebeam/fleet"
import { Effect } from "effect"
import { ratingScore } from "../src/RatingJudge.ts"
import { makeCrossEncoderJudge, makeRewardJudge, rewardOf } from "../src/RewardJudge.ts"

/** What the judges post, as far as these tests read it. */
interface Posted {
  readonly messages: ReadonlyArray<{
    readonly role: string
    readonly content: string & ReadonlyArray<{ readonly type: string; readonly text?: string }>
  }>
  readonly text_2: ReadonlyArray<string>
}

/** A pool whose non-chat routes answer with `answer(path, body)`, logging what was posted. */
const postingPool = (
  answer: (path: string, body: Posted) => unknown,
  posted: Array<{ path: string; body: Posted }>,
  declaredCapabilities: Pool["declaredCapabilities"] = undefined,
): Pool => ({
  declaredCapabilities,
  name: "reward",
  model: "rm",
  complete: () => Effect.die(new Error("no chat here")),
  post: (path, body) =>
    Effect.sync(() => {
      posted.push({ path, body: body as Posted })
      return { json: answer(path, body as Posted), server: "http://rm" }
    }),
  snapshot: Effect.succeed([]),
  upCount: Effect.succeed(1),
  capabilities: Effect.succeed({ ...ASSUMED, pooling: true, score: true }),
  statuses: Effect.succeed(new Map()),
  probeAll: Effect.void,
})

const input = {
  kind: "CAPTION" as const,
  question: "What is shown?",
  imageUrl: "data:image/png;base64,AAAA",
  responses: ["a cat", "a dog"],
  seed: 1,
}

describe("pointwise judges", () => {
  it("a reward is the last number of the pooler's output, whatever the pooling", () => {
    assert.strictEqual(rewardOf(0.4), 0.4)
    assert.strictEqual(rewardOf([0.4]), 0.4)
    assert.strictEqual(rewardOf([[0.1], [0.2], [0.9]]), 0.9)
    assert.isNaN(rewardOf([]))
  })

  it.effect(
    "reward: one chat-format /pooling call per response, image (declared pools only), question + instruction, then the response",
    () =>
      Effect.gen(function* () {
        // A pool not declared `images: true` is sent no image: vLLM 0.10.2's reward models are text-only.
        const textOnly: Array<{ path: string; body: Posted }> = []
        yield* makeRewardJudge(
          postingPool(() => ({ data: [{ index: 0, data: [1] }] }), textOnly),
          { name: "rm", kind: "reward", pool: "reward" },
        ).score(input)
        assert.strictEqual(textOnly.length, 2)
        for (const { body } of textOnly)
          assert.deepStrictEqual(
            body.messages[0]!.content.map((part) => part.type),
            ["text"],
          )
        const posted: Array<{ path: string; body: Posted }> = []
        const judge = makeRewardJudge(
          postingPool(
            (_, body) => ({ data: [{ index: 0, data: [body.messages[1]?.content === "a dog" ? 2 : -1] }] }),
            posted,
            { images: true },
          ),
          { name: "rm", kind: "reward", pool: "reward" },
        )
        const scores = yield* judge.score(input)
        assert.deepStrictEqual(scores.scores, [-1, 2])
        assert.strictEqual(scores.calls, 2)
        assert.strictEqual(posted.length, 2)
        const first = posted[0]!
        assert.strictEqual(first.path, "/pooling")
        const user = first.body.messages[0]!.content
        assert.strictEqual(user[0]?.type, "image_url")
        assert.strictEqual(
          user[1]?.text,
          "What is shown?\nPlease provide a detailed description of this image based on the question and the image itself.",
        )
        assert.deepStrictEqual(first.body.messages[1], { role: "assistant", content: "a cat" })
        // A pooler output without a number is malformed (a retryable upstream error), not a score of NaN.
        const broken = makeRewardJudge(
          postingPool(() => ({ data: [{ index: 0, data: [] }] }), []),
          {
            name: "rm",
            kind: "reward",
            pool: "reward",
          },
        )
        const error = yield* Effect.flip(broken.score(input))
        assert.strictEqual(error._tag, "UpstreamError")
        assert.isTrue(error.retryable)
      }),
  )

  it.effect("cross-encoder: one /score call, the query against every response (1:N)", () =>
    Effect.gen(function* () {
      const posted: Array<{ path: string; body: Posted }> = []
      const judge = makeCrossEncoderJudge(
        postingPool(
          (_, body) => ({
            data: body.text_2.map((_text, index) => ({ index, object: "score", score: index / 10 })),
          }),
          posted,
        ),
      )
      const scores = yield* judge.score(input)
      assert.deepStrictEqual(scores.scores, [0, 0.1])
      assert.strictEqual(scores.calls, 1)
      assert.strictEqual(posted[0]?.path, "/score")
      assert.deepStrictEqual(posted[0]?.body.text_2, ["a cat", "a dog"])
    }),
  )

  it("rating: the expectation of the digit under its logprobs, else the digit", () => {
    const first = {
      token: "7",
      logprob: Math.log(0.5),
      top_logprobs: [
        { token: "7", logprob: Math.log(0.5) },
        { token: "9", logprob: Math.log(0.25) },
        { token: "5", logprob: Math.log(0.25) },
        { token: "x", logprob: Math.log(0.01) },
      ],
    }
    assert.closeTo(ratingScore("7", first), 7, 1e-9)
    assert.closeTo(
      ratingScore("9", { ...first, top_logprobs: first.top_logprobs.slice(0, 2) }),
      (7 * 0.5 + 9 * 0.25) / 0.75,
      1e-9,
    )
    assert.strictEqual(ratingScore("I give it 3.", undefined), 3)
    assert.isNaN(ratingScore("no idea", undefined))
  })
})
