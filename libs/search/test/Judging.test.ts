import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  type CandidateGenerator,
  decideVerdict,
  decodeSearchRequest,
  type Judge,
  judgeMatch,
  type MatchInput,
  runSearch,
  type SearchEvent,
  type SearchRequestInput,
  type Verdict,
} from "../src/index.ts"
import { makeFakeGenerator, makeFakeJudge, makeFakeScorer } from "../src/testing.ts"

const IMAGE = "data:image/png;base64,iVBORw0KGgo="

const match: MatchInput = {
  kind: "CAPTION",
  question: "q",
  imageUrl: undefined,
  hint: undefined,
  first: "A",
  second: "B",
  seed: 5,
  wording: "CORRECTED",
  unclearVerdict: "ASK_SWAPPED_THEN_COIN",
}

const verdict = (winner: 0 | 1, extra: Partial<Verdict> = {}): Verdict => ({
  winner,
  raw: `I choose response ${winner + 1}.`,
  explicit: true,
  server: "j",
  promptTokens: 1,
  completionTokens: 1,
  ...extra,
})

/** A judge whose verdict is a function of what it is shown, logging what it was shown. */
const scripted = (answer: (shown: MatchInput) => Verdict) => {
  const shown: Array<MatchInput> = []
  return {
    shown,
    compare: (input: MatchInput) =>
      Effect.sync(() => {
        shown.push(input)
        return answer(input)
      }),
  }
}

/** Always names the first position it is shown: a judge with total position bias. */
const alwaysFirst = () => scripted(() => verdict(0))

const unclear = verdict(1, { explicit: false, raw: "Both are fine." })

describe("unclear verdicts (decideVerdict)", () => {
  it.effect("ASK_SWAPPED_THEN_COIN: asked once more swapped, then a seeded coin, never silently the second", () =>
    Effect.gen(function* () {
      const judge = scripted(() => unclear)
      const winners = new Set<number>()
      for (let seed = 0; seed < 24; seed++) {
        const decided = yield* decideVerdict({ ...match, seed }, judge.compare)
        assert.strictEqual(decided.decidedBy, "COIN")
        assert.isTrue(decided.reasked)
        assert.isFalse(decided.explicit)
        assert.strictEqual(decided.calls, 2)
        winners.add(decided.winner)
        // The same seed gives the same coin.
        assert.strictEqual((yield* decideVerdict({ ...match, seed }, judge.compare)).winner, decided.winner)
      }
      assert.deepStrictEqual([...winners].sort(), [0, 1])
    }),
  )

  it.effect("COIN: no second call; SECOND: the reference's second; an explicit answer is EXPLICIT", () =>
    Effect.gen(function* () {
      const judge = scripted(() => unclear)
      const coin = yield* decideVerdict({ ...match, unclearVerdict: "COIN" }, judge.compare)
      assert.strictEqual(coin.decidedBy, "COIN")
      assert.strictEqual(judge.shown.length, 1)
      const second = yield* decideVerdict({ ...match, unclearVerdict: "SECOND" }, judge.compare)
      assert.strictEqual(second.winner, 1)
      assert.strictEqual(second.decidedBy, "UNCLEAR")
      const clear = yield* decideVerdict(match, scripted(() => verdict(0)).compare)
      assert.strictEqual(clear.decidedBy, "EXPLICIT")
    }),
  )
})

describe("a match put to a pairwise judge (judgeMatch)", () => {
  it.effect("SEEDED order: about half the matches are shown the other way round, and read back", () =>
    Effect.gen(function* () {
      let flipped = 0
      for (let seed = 0; seed < 200; seed++) {
        const judge = alwaysFirst()
        const decision = yield* judgeMatch(
          { ...match, seed },
          { matchOrder: "SEEDED", bothOrders: false, votes: 1 },
          judge.compare,
        )
        if (decision.orderFlipped) {
          flipped++
          assert.strictEqual(judge.shown[0]?.first, "B")
          // The judge named what it saw first: the match's second.
          assert.strictEqual(decision.winner, 1)
        } else assert.strictEqual(decision.winner, 0)
      }
      assert.isAbove(flipped, 70)
      assert.isBelow(flipped, 130)
      const asPaired = alwaysFirst()
      const decision = yield* judgeMatch(
        match,
        { matchOrder: "AS_PAIRED", bothOrders: false, votes: 1 },
        asPaired.compare,
      )
      assert.isFalse(decision.orderFlipped)
      assert.strictEqual(asPaired.shown[0]?.first, "A")
    }),
  )

  it.effect("both orders: consistent verdicts win; a flip goes to the larger margin, or to a seeded coin", () =>
    Effect.gen(function* () {
      const rules = { matchOrder: "SEEDED" as const, bothOrders: true, votes: 1 }
      // Prefers A in both orders.
      const consistent = scripted((shown) => verdict(shown.first === "A" ? 0 : 1, { margin: 1 }))
      const agreed = yield* judgeMatch(match, rules, consistent.compare)
      assert.strictEqual(agreed.winner, 0)
      assert.strictEqual(agreed.decidedBy, "JUDGE")
      assert.isTrue(agreed.explicit)
      assert.deepStrictEqual(agreed.votes, [2, 0])
      assert.strictEqual(agreed.calls, 2)
      // Position-biased, but surer when A is shown first: the margins tell.
      const biased = scripted((shown) => verdict(0, { margin: shown.first === "A" ? 2.2 : 0.1 }))
      const byMargin = yield* judgeMatch(match, rules, biased.compare)
      assert.strictEqual(byMargin.winner, 0)
      assert.strictEqual(byMargin.decidedBy, "MARGIN")
      assert.closeTo(byMargin.margin ?? 0, 2.1, 1e-9)
      assert.isFalse(byMargin.explicit)
      // Free text (no margins) that flips with the order: a coin, the same for the same seed.
      const coins = new Set<number>()
      for (let seed = 0; seed < 16; seed++) {
        const decided = yield* judgeMatch({ ...match, seed }, rules, alwaysFirst().compare)
        assert.strictEqual(decided.decidedBy, "COIN")
        coins.add(decided.winner)
      }
      assert.strictEqual(coins.size, 2)
    }),
  )

  it.effect("votes K: K verdicts with their own seeds, the majority wins", () =>
    Effect.gen(function* () {
      // A noisy judge: its verdict follows its seed, preferring A two times in three.
      const noisy = scripted((shown) => {
        const prefersA = shown.seed % 3 !== 0
        return verdict(prefersA === (shown.first === "A") ? 0 : 1)
      })
      const decision = yield* judgeMatch(match, { matchOrder: "AS_PAIRED", bothOrders: false, votes: 3 }, noisy.compare)
      assert.strictEqual(noisy.shown.length, 3)
      assert.strictEqual(new Set(noisy.shown.map((shown) => shown.seed)).size, 3)
      const [forA, forB] = decision.votes
      assert.strictEqual(forA + forB, 3)
      assert.strictEqual(decision.winner, forA > forB ? 0 : 1)
      assert.strictEqual(decision.decidedBy, "JUDGE")
    }),
  )
})

const run = (input: SearchRequestInput, layer: Layer.Layer<CandidateGenerator | Judge>) =>
  Effect.gen(function* () {
    const request = yield* decodeSearchRequest(input)
    const fiber = yield* Effect.forkChild(runSearch(request).pipe(Effect.provide(layer)))
    yield* TestClock.adjust(10_000_000)
    return yield* Fiber.join(fiber)
  })

const ofTag = <T extends SearchEvent["_tag"]>(trace: ReadonlyArray<SearchEvent>, tag: T) =>
  trace.filter((event): event is Extract<SearchEvent, { _tag: T }> => event._tag === tag)

describe("the match rules in a search", () => {
  it.effect("CHOICE verdicts carry their margin and mode into the trace; both orders doubles the calls", () =>
    Effect.gen(function* () {
      const generator = makeFakeGenerator()
      const judge = makeFakeJudge({ choice: true, preference: ([first]) => (first?.includes("1") ? 0.8 : 0.3) })
      const result = yield* run(
        { question: "q", imageUrl: IMAGE, seed: 3, bothOrders: true },
        Layer.merge(generator.layer, judge.layer),
      )
      const matches = ofTag(result.trace, "MatchJudged").filter((m) => m.decidedBy !== "IDENTICAL")
      assert.isAbove(matches.length, 0)
      for (const m of matches) {
        assert.strictEqual(m.verdictMode, "CHOICE")
        assert.strictEqual(m.calls, 2)
        assert.include(["JUDGE", "MARGIN", "COIN"], m.decidedBy)
        assert.strictEqual((m.votesFirst ?? 0) + (m.votesSecond ?? 0), 2)
      }
      assert.strictEqual(result.usage.judgeCalls, 2 * matches.length)
      assert.isTrue(result.selection.rules.bothOrders)
      assert.include(result.selection.deviations, "bothOrders")
    }),
  )

  it.effect("the REFERENCE preset keeps free-text verdicts in the tournament's order", () =>
    Effect.gen(function* () {
      const generator = makeFakeGenerator()
      const judge = makeFakeJudge({ choice: true })
      const result = yield* run(
        { question: "q", imageUrl: IMAGE, seed: 3, preset: "REFERENCE" },
        Layer.merge(generator.layer, judge.layer),
      )
      const matches = ofTag(result.trace, "MatchJudged").filter((m) => m.decidedBy === "JUDGE")
      assert.isAbove(matches.length, 0)
      assert.isTrue(matches.every((m) => m.verdictMode === "FREE_TEXT" && m.orderFlipped === false))
      assert.isTrue(judge.matches.every((logged) => logged.match.verdict === "FREE_TEXT"))
    }),
  )
})

describe("the verdict policy (the search's, over what the judge can do)", () => {
  it.effect(
    "CHOICE is asked only of a judge that can constrain its answer; else free text, and the selection says so",
    () =>
      Effect.gen(function* () {
        for (const canChoose of [true, false]) {
          const generator = makeFakeGenerator()
          const judge = makeFakeJudge({ choice: true, canChoose })
          const result = yield* run(
            { question: "q", imageUrl: IMAGE, seed: 3 },
            Layer.merge(generator.layer, judge.layer),
          )
          const mode = canChoose ? "CHOICE" : "FREE_TEXT"
          assert.strictEqual(result.selection.rules.verdict, mode)
          assert.isAbove(judge.matches.length, 0)
          assert.isTrue(judge.matches.every((logged) => logged.match.verdict === mode))
          assert.isTrue(
            ofTag(result.trace, "MatchJudged").every((m) => m.decidedBy === "IDENTICAL" || m.verdictMode === mode),
          )
        }
      }),
  )

  it.effect("an unclear verdict is asked again swapped by the search, the judge answering each call as asked", () =>
    Effect.gen(function* () {
      const generator = makeFakeGenerator()
      // Every answer names neither response: the DEFAULT rule asks once more swapped, then tosses a seeded coin.
      const judge = makeFakeJudge({ unclearRate: 1 })
      const result = yield* run({ question: "q", imageUrl: IMAGE, seed: 3 }, Layer.merge(generator.layer, judge.layer))
      const matches = ofTag(result.trace, "MatchJudged").filter((m) => m.decidedBy !== "IDENTICAL")
      assert.isAbove(matches.length, 0)
      assert.isTrue(matches.every((m) => m.decidedBy === "COIN" && m.reasked === true && m.calls === 2))
      assert.strictEqual(judge.matches.length, 2 * matches.length)
    }),
  )
})

describe("a pointwise judge", () => {
  it.effect("STAGE_BEAM keeps the highest score per stage, one scoring call per stage, no tournament", () =>
    Effect.gen(function* () {
      const generator = makeFakeGenerator()
      // Prefers the candidate with the smallest number in it.
      const scorer = makeFakeScorer({ score: (text) => -Number(/(\d+)/.exec(text)?.[1] ?? 1000) })
      const result = yield* run(
        { question: "q", imageUrl: IMAGE, seed: 11, candidates: 4 },
        Layer.merge(generator.layer, scorer.layer),
      )
      assert.strictEqual(ofTag(result.trace, "MatchJudged").length, 0)
      assert.strictEqual(scorer.calls.length, 4)
      assert.strictEqual(result.usage.scoringCalls, 4)
      assert.strictEqual(result.usage.judgeCalls, 0)
      for (const chosen of ofTag(result.trace, "StepChosen")) {
        assert.strictEqual(chosen.by, "SCORE")
        const scores = ofTag(result.trace, "CandidateScored").filter((s) => s.step === chosen.step)
        assert.strictEqual(scores.length, 4)
        const best = Math.max(...scores.map((s) => s.score))
        assert.strictEqual(scores.find((s) => s.index === chosen.index)?.score, best)
      }
      // The conclusion is scored as the whole answer, as SWIRES scores its final candidates.
      const conclusionCall = scorer.calls.find((call) => call.kind === "CONCLUSION")
      assert.isTrue(conclusionCall?.responses.every((text) => text.includes("<SUMMARY>")))
    }),
  )

  it.effect("equal scores are broken by the seed, copies of one text keeping their weight", () =>
    Effect.gen(function* () {
      const picks = new Set<number>()
      for (let seed = 1; seed <= 12; seed++) {
        const result = yield* run(
          { question: "q", imageUrl: IMAGE, seed, candidates: 4, strategy: "BEST_OF_N" },
          Layer.merge(makeFakeGenerator().layer, makeFakeScorer({ score: () => 1 }).layer),
        )
        picks.add(ofTag(result.trace, "StepChosen")[0]!.index)
      }
      assert.isAbove(picks.size, 1)
    }),
  )
})
