import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  decodeSearchRequest,
  runSearch,
  type ScoreInput,
  type SearchEvent,
  type SearchRequestInput,
  SWIRES_DEFAULTS,
} from "../src/index.ts"
import { makeFakeGenerator, makeFakeScorer } from "../src/testing.ts"

const IMAGE = "data:image/png;base64,iVBORw0KGgo="

const ofTag = <T extends SearchEvent["_tag"]>(trace: ReadonlyArray<SearchEvent>, tag: T) =>
  trace.filter((event): event is Extract<SearchEvent, { _tag: T }> => event._tag === tag)

/** The fake generator writes a variant number into every stage: the scorer reads it back. */
const variantOf = (text: string) => Number(/(\d+)/.exec(text)?.[1] ?? 0)

const swires = (input: Partial<SearchRequestInput>, score: (text: string, input: ScoreInput) => number) =>
  Effect.gen(function* () {
    const generator = makeFakeGenerator({ latencyMs: 10 })
    const scorer = makeFakeScorer({ latencyMs: 5, score })
    const request = yield* decodeSearchRequest({
      question: "q",
      imageUrl: IMAGE,
      strategy: "SWIRES",
      seed: 4,
      ...input,
    })
    const fiber = yield* Effect.forkChild(
      runSearch(request).pipe(Effect.provide(Layer.merge(generator.layer, scorer.layer))),
    )
    yield* TestClock.adjust(10_000_000)
    return { result: yield* Fiber.join(fiber), generator, scorer }
  })

describe("SWIRES", () => {
  it.effect(
    "one pass when the reasonings score well: 1 summary, 4 captions → top 2, 2 × 2 reasonings, 3 conclusions",
    () =>
      Effect.gen(function* () {
        const { result, generator, scorer } = yield* swires({}, (text) => variantOf(text))
        const kinds = generator.log.map((call) => [call.request.stop[0], call.request.n])
        assert.deepStrictEqual(kinds, [
          ["</SUMMARY>", 1],
          ["</CAPTION>", 4],
          ["</REASONING>", 2],
          ["</REASONING>", 2],
          ["</CONCLUSION>", 1],
          ["</CONCLUSION>", 1],
          ["</CONCLUSION>", 1],
        ])
        assert.deepStrictEqual(
          scorer.calls.map((call) => [call.kind, call.responses.length]),
          [
            ["CAPTION", 4],
            ["REASONING", 2],
            ["REASONING", 2],
            ["CONCLUSION", 3],
          ],
        )
        assert.strictEqual(ofTag(result.trace, "SearchRetraced").length, 0)
        // The two best captions are kept, and the reasonings continue them.
        const captionScores = ofTag(result.trace, "CandidateScored").filter((s) => s.kind === "CAPTION")
        const keptCaptions = ofTag(result.trace, "StepChosen").filter((c) => c.kind === "CAPTION")
        const top2 = [...captionScores].sort((a, b) => b.score - a.score).slice(0, 2)
        assert.sameMembers(
          keptCaptions.map((c) => c.index),
          top2.map((s) => s.index),
        )
        const reasoningPrefixes = generator.log.filter((call) => call.request.stop[0] === "</REASONING>")
        for (const caption of keptCaptions) {
          assert.isTrue(reasoningPrefixes.some((call) => call.request.prefix.endsWith(caption.text)))
        }
        // Conclusions continue the three best reasonings; the best-scored whole answer is the result.
        const conclusions = scorer.calls.find((call) => call.kind === "CONCLUSION")!
        assert.isTrue(
          conclusions.responses.every((text) => text.includes("<SUMMARY>") && text.includes("<CONCLUSION>")),
        )
        const best = [...conclusions.responses].sort((a, b) => variantOf(b) - variantOf(a))[0]
        assert.strictEqual(result.text, best)
        assert.strictEqual(result.usage.scoringCalls, 4)
        assert.deepStrictEqual(
          result.stages.map((stage) => stage.stage),
          ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"],
        )
      }),
  )

  it.effect("retraces from the summary while the pool's second-best reasoning is not above the cutoff", () =>
    Effect.gen(function* () {
      // Reasonings always score below the cutoff: every pass fails, up to the limit.
      const low = (text: string, input: ScoreInput) => (input.kind === "REASONING" ? -5 + variantOf(text) / 1e4 : 0)
      const { result, generator } = yield* swires({}, low)
      const retraces = ofTag(result.trace, "SearchRetraced")
      assert.strictEqual(retraces.length, SWIRES_DEFAULTS.maxRetraces)
      const captionCalls = generator.log.filter((call) => call.request.stop[0] === "</CAPTION>")
      assert.strictEqual(captionCalls.length, SWIRES_DEFAULTS.maxRetraces + 1)
      // Every pass starts again from the one summary.
      assert.strictEqual(new Set(captionCalls.map((call) => call.request.prefix)).size, 1)
      // The pool persists: the conclusions continue the best reasonings of all passes.
      const reasoningScores = ofTag(result.trace, "CandidateScored").filter((s) => s.kind === "REASONING")
      assert.strictEqual(reasoningScores.length, 4 * (SWIRES_DEFAULTS.maxRetraces + 1))
      assert.strictEqual(generator.log.filter((call) => call.request.stop[0] === "</CONCLUSION>").length, 3)

      // The code's limit (max_backtrack 4: five passes) is one option away; the cutoff another.
      const code = yield* swires({ swires: { maxRetraces: 4 } }, low)
      assert.strictEqual(ofTag(code.result.trace, "SearchRetraced").length, 4)
      const lenient = yield* swires({ swires: { cutoff: -10 } }, low)
      assert.strictEqual(ofTag(lenient.result.trace, "SearchRetraced").length, 0)
    }),
  )

  it.effect("a pass is accepted as soon as the second-best of the whole pool passes", () =>
    Effect.gen(function* () {
      // Only the second pass's reasonings (texts 5–8 scored) score above the cutoff.
      let reasoningsScored = 0
      const { result } = yield* swires({}, (_text, input) => {
        if (input.kind !== "REASONING") return 0
        reasoningsScored++
        return reasoningsScored > 4 ? 1 : -5
      })
      assert.strictEqual(ofTag(result.trace, "SearchRetraced").length, 1)
    }),
  )
})
