import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import { decodeSearchRequest, runSearch } from "../src/index.ts"
import { makeFakeGenerator, makeFakeJudge } from "../src/testing.ts"

const runOnce = (
  tournament: "KNOCKOUT" | "SEQUENTIAL",
  duplicates: "WEIGHT" | "MERGE",
  candidates: number,
  variants: number,
  seed: number,
) => {
  const generator = makeFakeGenerator({ variants })
  const judge = makeFakeJudge()
  return Effect.runPromise(
    Effect.gen(function* () {
      const request = yield* decodeSearchRequest({
        question: "Q",
        imageUrl: "http://img",
        tournament,
        duplicates,
        candidates,
        seed,
      })
      return yield* runSearch(request).pipe(Effect.provide(Layer.merge(generator.layer, judge.layer)))
    }).pipe(Effect.provide(TestClock.layer())), // a deterministic clock: traces carry times
  ).then((result) => ({ result, judgeCalls: judge.matches.length }))
}

describe("runSearch (property tests)", () => {
  it("per stage: distinct − 1 matches (MERGE) or N − 1 unless all are equal (WEIGHT), a judge call for each match of different texts; the chosen candidate never lost; equal seeds, equal runs", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("KNOCKOUT" as const, "SEQUENTIAL" as const),
        fc.constantFrom("WEIGHT" as const, "MERGE" as const),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        async (tournament, duplicates, candidates, variants, seed) => {
          const { result, judgeCalls } = await runOnce(tournament, duplicates, candidates, variants, seed)
          let expected = 0
          for (let step = 0; step < 4; step++) {
            const generated = result.trace.filter((e) => e._tag === "CandidateGenerated" && e.step === step)
            const distinct = new Set(generated.map((e) => (e._tag === "CandidateGenerated" ? e.judgedText : ""))).size
            const matches = result.trace.filter((e) => e._tag === "MatchJudged" && e.step === step)
            const played = duplicates === "MERGE" || distinct === 1 ? distinct - 1 : generated.length - 1
            assert.strictEqual(matches.length, played)
            const judged = matches.filter((m) => m._tag === "MatchJudged" && m.decidedBy === "JUDGE")
            const identical = matches.filter((m) => m._tag === "MatchJudged" && m.decidedBy === "IDENTICAL")
            assert.strictEqual(judged.length + identical.length, matches.length)
            for (const m of matches) {
              if (m._tag === "MatchJudged")
                assert.strictEqual(m.firstText === m.secondText, m.decidedBy === "IDENTICAL")
            }
            expected += judged.length
            const chosen = result.trace.find((e) => e._tag === "StepChosen" && e.step === step)
            const losers = matches.map((m) =>
              m._tag === "MatchJudged" ? (m.winner === m.first ? m.second : m.first) : -1,
            )
            assert.notInclude(losers, chosen?._tag === "StepChosen" ? chosen.index : -2)
          }
          assert.strictEqual(judgeCalls, expected)
          const again = await runOnce(tournament, duplicates, candidates, variants, seed)
          assert.deepStrictEqual(again.result, result)
        },
      ),
      { numRuns: 60 },
    )
  })
})
