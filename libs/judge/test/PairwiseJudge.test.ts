import { assert, describe, it } from "@effect/vitest"
import { CHOICE_OUTPUT_FORMAT } from "@stagebeam/cot"
import {
  ASSUMED,
  type Capabilities,
  type ChatRequest,
  NoCapacity,
  type Pool,
  type TokenLogprob,
  UpstreamError,
} from "@stagebeam/fleet"
import { decideVerdict } from "@stagebeam/search"
import { Effect, Ref } from "effect"
import { FREE_TEXT_VERDICT_MAX_TOKENS, makePairwiseJudge, readChoice } from "../src/PairwiseJudge.ts"

/** A pool that records every request and answers with `reply`. */
const recordingPool = (
  requests: Ref.Ref<ReadonlyArray<ChatRequest>>,
  reply: string,
  capabilities: Partial<Capabilities> = {},
  logprobs?: ReadonlyArray<TokenLogprob>,
): Pool => ({
  name: "test",
  model: "m",
  complete: (request) =>
    Ref.update(requests, (all) => [...all, request]).pipe(
      Effect.as({
        server: "http://judge",
        completion: {
          id: "c",
          model: "m",
          choices: [{ index: 0, message: { content: reply }, finish_reason: "stop", logprobs }],
          usage: { prompt_tokens: 7, completion_tokens: 3 },
        },
      }),
    ),
  post: () => Effect.die(new Error("this pool serves chat only")),
  snapshot: Effect.succeed([]),
  upCount: Effect.succeed(1),
  capabilities: Effect.succeed({ ...ASSUMED, ...capabilities }),
  statuses: Effect.succeed(new Map()),
  probeAll: Effect.void,
})

const match = {
  kind: "REASONING" as const,
  question: "How many apples?",
  imageUrl: "data:image/png;base64,AAAA",
  hint: "Three apples on a table.",
  first: "first reasoning",
  second: "second reasoning",
  seed: 11,
  wording: "CORRECTED" as const,
  unclearVerdict: "ASK_SWAPPED" as const,
}

describe("PairwiseJudge", () => {
  it.effect("on a pool that takes no images, asks with the question and the responses only", () =>
    Effect.gen(function* () {
      const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
      const judge = makePairwiseJudge(recordingPool(requests, "I choose response 2.", { images: false }))
      const verdict = yield* judge.compare(match)
      assert.strictEqual(verdict.winner, 1)
      const [request] = yield* Ref.get(requests)
      const parts = request?.messages[0]?.content as ReadonlyArray<{ type: string }>
      assert.deepStrictEqual(
        parts.map((part) => part.type),
        ["text"],
      )
    }),
  )

  it.effect("asks with the image first and the reference's prompt, and reads the verdict", () =>
    Effect.gen(function* () {
      const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
      const judge = makePairwiseJudge(recordingPool(requests, "Since it counts right, I choose response 1."))
      const verdict = yield* judge.compare(match)
      assert.strictEqual(verdict.winner, 0)
      assert.isTrue(verdict.explicit)
      assert.strictEqual(verdict.server, "http://judge")
      assert.strictEqual(verdict.promptTokens, 7)

      const [request] = yield* Ref.get(requests)
      const content = request?.messages[0]?.content
      assert.isTrue(Array.isArray(content))
      const parts = content as ReadonlyArray<{ type: string; text?: string }>
      assert.strictEqual(parts[0]?.type, "image_url")
      const text = parts[1]?.text ?? ""
      assert.include(text, "Hint about the Question: Three apples on a table.")
      assert.include(text, "Response 1: first reasoning")
      assert.include(text, "Response 2: second reasoning")
      assert.strictEqual(request?.seed, 11)
    }),
  )

  it.effect("treats a verdict that names no response as the reference does, but flags it", () =>
    Effect.gen(function* () {
      const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
      const verdict = yield* makePairwiseJudge(recordingPool(requests, "Both are fine.")).compare(match)
      assert.strictEqual(verdict.winner, 1)
      assert.isFalse(verdict.explicit)
    }),
  )

  it.effect("checks reasoning with a text-only prompt", () =>
    Effect.gen(function* () {
      const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
      const judge = makePairwiseJudge(recordingPool(requests, "incorrect"))
      const result = yield* judge.checkReasoning({
        question: "q",
        hint: "caption",
        reasoning: "2+2=5",
        seed: 1,
        wording: "CORRECTED",
      })
      assert.isFalse(result.correct)
      const [request] = yield* Ref.get(requests)
      const parts = request?.messages[0]?.content as ReadonlyArray<{ type: string; text?: string }>
      assert.isTrue(parts.every((part) => part.type === "text"))
      assert.include(parts[0]?.text ?? "", "Reasoning Process: 2+2=5")
    }),
  )

  it.effect("fails with the pool's own error, kept whole: retryable when the request was not at fault", () =>
    Effect.gen(function* () {
      const failingPool = (error: UpstreamError | NoCapacity): Pool => ({
        name: "test",
        model: "m",
        complete: () => Effect.fail(error),
        post: () => Effect.die(new Error("this pool serves chat only")),
        snapshot: Effect.succeed([]),
        upCount: Effect.succeed(0),
        capabilities: Effect.succeed(ASSUMED),
        statuses: Effect.succeed(new Map()),
        probeAll: Effect.void,
      })
      const down = yield* Effect.flip(
        makePairwiseJudge(failingPool(new NoCapacity({ pool: "judge", message: "none up" }))).compare(match),
      )
      assert.isTrue(down.retryable)
      const rejected = yield* Effect.flip(
        makePairwiseJudge(
          failingPool(
            new UpstreamError({ pool: "judge", server: "http://j", kind: "status", status: 400, message: "too long" }),
          ),
        ).compare(match),
      )
      assert.isFalse(rejected.retryable)
      assert.instanceOf(rejected, UpstreamError)
      assert.strictEqual(rejected instanceof UpstreamError ? rejected.status : 0, 400)
      assert.include(rejected.message, "too long")
    }),
  )
})

// The judge answers one verdict per call; asking again is the search's unclear rule (decideVerdict), applied here as
// a search applies it.
describe("PairwiseJudge when the verdict names no response", () => {
  /** A pool that answers the successive requests with `replies` in turn (and length-stops where asked). */
  const scriptedPool = (
    requests: Ref.Ref<ReadonlyArray<ChatRequest>>,
    replies: ReadonlyArray<{ readonly text: string; readonly finish?: string }>,
  ): Pool => ({
    name: "test",
    model: "m",
    complete: (request) =>
      Effect.gen(function* () {
        const before = yield* Ref.getAndUpdate(requests, (all) => [...all, request])
        const reply = replies[before.length] ?? { text: "" }
        return {
          server: "http://judge",
          completion: {
            id: "c",
            model: "m",
            choices: [{ index: 0, message: { content: reply.text }, finish_reason: reply.finish ?? "stop" }],
            usage: { prompt_tokens: 5, completion_tokens: 2 },
          },
        }
      }),
    post: () => Effect.die(new Error("this pool serves chat only")),
    snapshot: Effect.succeed([]),
    upCount: Effect.succeed(1),
    capabilities: Effect.succeed(ASSUMED),
    statuses: Effect.succeed(new Map()),
    probeAll: Effect.void,
  })

  const promptOf = (request: ChatRequest | undefined) =>
    ((request?.messages[0]?.content ?? []) as ReadonlyArray<{ type: string; text?: string }>)[1]?.text ?? ""

  it.effect("asks once more with the responses swapped and maps the answer back", () =>
    Effect.gen(function* () {
      const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
      const judge = makePairwiseJudge(
        scriptedPool(requests, [{ text: "Both have merit." }, { text: "Since it is clearer, I choose response 1." }]),
      )
      const verdict = yield* decideVerdict(match, judge.compare)
      // Response 1 of the swapped ask is the original second response.
      assert.strictEqual(verdict.winner, 1)
      assert.isTrue(verdict.explicit)
      assert.strictEqual(verdict.promptTokens, 10)
      assert.strictEqual(verdict.calls, 2)
      const [first, second] = yield* Ref.get(requests)
      assert.include(promptOf(first), "Response 1: first reasoning")
      assert.include(promptOf(second), "Response 1: second reasoning")
    }),
  )

  it.effect("treats a verdict cut off by length as naming no response", () =>
    Effect.gen(function* () {
      const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
      const judge = makePairwiseJudge(
        scriptedPool(requests, [
          { text: "Since response 1 … I choose response 1", finish: "length" },
          { text: "Still thinking", finish: "length" },
        ]),
      )
      const verdict = yield* decideVerdict(match, judge.compare)
      assert.isFalse(verdict.explicit)
      assert.strictEqual((yield* Ref.get(requests)).length, 2)
    }),
  )

  it.effect('unclearVerdict SECOND: one ask, and anything without "I choose response 1" is the second', () =>
    Effect.gen(function* () {
      const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
      const judge = makePairwiseJudge(scriptedPool(requests, [{ text: "Both have merit." }]))
      const verdict = yield* judge.compare({ ...match, unclearVerdict: "SECOND" })
      assert.strictEqual(verdict.winner, 1)
      assert.isFalse(verdict.explicit)
      assert.strictEqual(verdict.calls ?? 1, 1)
      assert.strictEqual((yield* Ref.get(requests)).length, 1)
    }),
  )
})

describe("PairwiseJudge with the REFERENCE wording", () => {
  const textOf = (request: ChatRequest | undefined) => {
    const parts = (request?.messages[0]?.content ?? []) as ReadonlyArray<{ type: string; text?: string }>
    return parts.find((part) => part.type === "text")?.text ?? ""
  }

  it.effect("sends the reference's prompt strings, and leaves out a response it cannot read", () =>
    Effect.gen(function* () {
      const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
      const judge = makePairwiseJudge(recordingPool(requests, "Since it is clearer, I choose response 1."))
      yield* judge.compare({ ...match, wording: "REFERENCE", first: undefined })
      yield* judge.checkReasoning({ question: "q", hint: "caption", reasoning: "r", seed: 1, wording: "REFERENCE" })
      const [verdict, check] = yield* Ref.get(requests)
      assert.include(textOf(verdict), "\nRepsonse 1: second reasoning\n\n")
      assert.notInclude(textOf(verdict), "Repsonse 2")
      assert.include(textOf(check), "invovles")
    }),
  )
})

describe("PairwiseJudge with CHOICE verdicts", () => {
  const choice = { ...match, verdict: "CHOICE" as const }
  const labels = (one: number, two: number): ReadonlyArray<TokenLogprob> => [
    {
      token: "2",
      logprob: two,
      top_logprobs: [
        { token: "2", logprob: two },
        { token: "1", logprob: one },
      ],
    },
  ]
  const textOf = (request: ChatRequest | undefined) =>
    ((request?.messages[0]?.content ?? []) as ReadonlyArray<{ type: string; text?: string }>).find(
      (part) => part.type === "text",
    )?.text ?? ""

  it.effect(
    "constrains the answer to the two labels with the pool's field, in a few tokens, and keeps the margin",
    () =>
      Effect.gen(function* () {
        const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
        // The sampled token is "2", but "1" holds more of the judge's probability: the higher logprob wins.
        const judge = makePairwiseJudge(recordingPool(requests, "2", {}, labels(Math.log(0.7), Math.log(0.3))))
        const verdict = yield* judge.compare(choice)
        assert.strictEqual(verdict.winner, 0)
        assert.strictEqual(verdict.mode, "CHOICE")
        assert.closeTo(verdict.margin ?? 0, Math.log(0.7 / 0.3), 1e-9)
        const [request] = yield* Ref.get(requests)
        // The pool's field (ASSUMED: guided_choice, vLLM 0.10.2's; the probe decides per server).
        assert.deepStrictEqual(request?.guided_choice, ["1", "2"])
        assert.isUndefined(request?.structured_outputs)
        assert.strictEqual(request?.max_tokens, 1)
        // Raw logprobs: vLLM's V0 engine returns them after temperature and top-p.
        assert.strictEqual(request?.temperature, 1)
        assert.strictEqual(request?.top_p, 1)
        assert.isTrue(request?.logprobs)
        assert.isAtLeast(request?.top_logprobs ?? 0, 2)
        assert.include(textOf(request), CHOICE_OUTPUT_FORMAT)

        const structured = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
        yield* makePairwiseJudge(recordingPool(structured, "1", { constrainedChoice: "structured_outputs" })).compare(
          choice,
        )
        assert.deepStrictEqual((yield* Ref.get(structured))[0]?.structured_outputs, { choice: ["1", "2"] })
        assert.isUndefined((yield* Ref.get(structured))[0]?.guided_choice)
      }),
  )

  it.effect("a label cut to −9999 (outside the kept set) is no evidence, and no margin is larger than 20", () =>
    Effect.gen(function* () {
      const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
      const cut = yield* makePairwiseJudge(recordingPool(requests, "2", {}, labels(-9999, Math.log(0.8)))).compare(
        choice,
      )
      assert.strictEqual(cut.winner, 1)
      // From the label's own probability: log(0.8 / 0.2), not 9999.
      assert.closeTo(cut.margin ?? 0, Math.log(4), 1e-9)
      const sure = yield* makePairwiseJudge(recordingPool(requests, "1", {}, labels(-1e-12, -60))).compare(choice)
      assert.strictEqual(sure.winner, 0)
      assert.strictEqual(sure.margin, 20)
    }),
  )

  it.effect("falls back to free text where the pool cannot constrain, or the judge is declared free_text", () =>
    Effect.gen(function* () {
      for (const [capabilities, options] of [
        [{ constrainedChoice: "none" as const }, {}],
        [{}, { verdicts: "free_text" as const }],
      ] as const) {
        const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
        const verdict = yield* makePairwiseJudge(
          recordingPool(requests, "Since it is clearer, I choose response 2.", capabilities),
          options,
        ).compare(choice)
        assert.strictEqual(verdict.mode, "FREE_TEXT")
        assert.strictEqual(verdict.winner, 1)
        assert.isUndefined(verdict.margin)
        const [request] = yield* Ref.get(requests)
        assert.isUndefined(request?.guided_choice)
        // Bounded to what the reference's sentence needs, not the reference's 2048.
        assert.strictEqual(request?.max_tokens, FREE_TEXT_VERDICT_MAX_TOKENS)
      }
    }),
  )

  it.effect(
    "a server that ignores the constraint (answers a sentence) is asked again in free text, and from then on",
    () =>
      Effect.gen(function* () {
        const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
        const judge = makePairwiseJudge(recordingPool(requests, "Since it is clearer, I choose response 2."))
        const first = yield* judge.compare(choice)
        assert.strictEqual(first.winner, 1)
        assert.strictEqual(first.mode, "FREE_TEXT")
        assert.strictEqual(first.calls, 2)
        const second = yield* judge.compare(choice)
        assert.strictEqual(second.mode, "FREE_TEXT")
        const sent = yield* Ref.get(requests)
        assert.strictEqual(sent.length, 3)
        assert.isDefined(sent[0]?.guided_choice)
        assert.isUndefined(sent[1]?.guided_choice)
        assert.isUndefined(sent[2]?.guided_choice)
        assert.strictEqual(sent[1]?.max_tokens, FREE_TEXT_VERDICT_MAX_TOKENS)
      }),
  )

  it.effect("whether the judge sees the image is declared per stage", () =>
    Effect.gen(function* () {
      const requests = yield* Ref.make<ReadonlyArray<ChatRequest>>([])
      const judge = makePairwiseJudge(recordingPool(requests, "1"), { images: { REASONING: false } })
      yield* judge.compare(choice)
      yield* judge.compare({ ...choice, kind: "CAPTION" })
      const [reasoning, caption] = yield* Ref.get(requests)
      const types = (request: ChatRequest | undefined) =>
        ((request?.messages[0]?.content ?? []) as ReadonlyArray<{ type: string }>).map((part) => part.type)
      assert.deepStrictEqual(types(reasoning), ["text"])
      assert.deepStrictEqual(types(caption), ["image_url", "text"])
    }),
  )

  it("reads a label: equal logprobs are a tie (no response named); a bare label keeps its own odds", () => {
    assert.deepStrictEqual(readChoice("1", labels(-0.69, -0.69)[0]), { winner: 0, explicit: false, margin: 0 })
    const bare = readChoice("2", { token: "2", logprob: Math.log(0.8) })
    assert.strictEqual(bare.winner, 1)
    assert.closeTo(bare.margin ?? 0, Math.log(4), 1e-9)
    // A server that ignored the constraint wrote a sentence: read as the reference reads it.
    assert.deepStrictEqual(readChoice("Since …, I choose response 1.", undefined), { winner: 0, explicit: true })
  })
})
