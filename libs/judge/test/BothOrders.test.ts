import { assert, describe, it } from "@effect/vitest"
import type { Judge, MatchInput, Verdict } from "@stagebeam/search"
import { Effect } from "effect"
import { judgeBothOrders } from "../src/BothOrders.ts"

const match: MatchInput = {
  kind: "CAPTION",
  question: "q",
  imageUrl: undefined,
  hint: undefined,
  first: "alpha",
  second: "beta",
  wording: "CORRECTED",
  unclearVerdict: "ASK_SWAPPED",
  seed: 1,
}

/** A judge that always picks the text `favourite`, or always the first position when `favourite` is undefined. */
const fakeJudge = (favourite: string | undefined, seen: Array<MatchInput> = []): Judge["Service"] => ({
  compare: (input) =>
    Effect.sync((): Verdict => {
      seen.push(input)
      const winner = favourite === undefined ? 0 : input.first === favourite ? 0 : 1
      return { winner, explicit: true, raw: `pick ${winner + 1}`, server: "j", promptTokens: 10, completionTokens: 2 }
    }),
  checkReasoning: () => Effect.die("not used"),
})

describe("judgeBothOrders", () => {
  it.effect("a judge that prefers the better text wins consistently, from both positions", () =>
    Effect.gen(function* () {
      const seen: Array<MatchInput> = []
      const verdict = yield* judgeBothOrders(fakeJudge("beta", seen)).compare(match)
      assert.strictEqual(verdict.winner, 1)
      assert.isTrue(verdict.explicit)
      assert.deepStrictEqual(
        seen.map((input) => input.first),
        ["alpha", "beta"],
      )
      assert.strictEqual(verdict.calls, 2)
      assert.strictEqual(verdict.promptTokens, 20)
    }),
  )

  it.effect("a judge that always picks the first position is caught as inconsistent", () =>
    Effect.gen(function* () {
      const verdict = yield* judgeBothOrders(fakeJudge(undefined)).compare(match)
      assert.isFalse(verdict.explicit)
      assert.strictEqual(verdict.winner, 0)
    }),
  )
})
