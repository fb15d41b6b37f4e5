import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { TestClock } from "effect/testing"
import { makeRetryBudget } from "../src/RetryBudget.ts"

const takeAll = (budget: { readonly take: Effect.Effect<boolean> }, tries: number) =>
  Effect.map(Effect.replicateEffect(budget.take, tries), (taken) => taken.filter(Boolean).length)

describe("the retry budget", () => {
  it.effect("allows the minimum when quiet, and a share of the calls when busy", () =>
    Effect.gen(function* () {
      const budget = yield* makeRetryBudget({ ratio: 0.2, minimum: 5, window: Duration.seconds(10) })
      assert.strictEqual(yield* takeAll(budget, 20), 5)
      yield* Effect.replicateEffect(budget.called, 100)
      assert.strictEqual(yield* takeAll(budget, 50), 15) // 20% of 100, 5 of them already taken
    }),
  )

  it.effect("forgets calls and retries once they leave the window", () =>
    Effect.gen(function* () {
      const budget = yield* makeRetryBudget({ ratio: 0.2, minimum: 5, window: Duration.seconds(10) })
      yield* Effect.replicateEffect(budget.called, 100)
      assert.strictEqual(yield* takeAll(budget, 50), 20)
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* takeAll(budget, 50), 0) // still inside the window
      yield* TestClock.adjust("6 seconds")
      assert.strictEqual(yield* takeAll(budget, 50), 5) // both left: the minimum again
      yield* TestClock.adjust("1 hour")
      yield* Effect.replicateEffect(budget.called, 50)
      assert.strictEqual(yield* takeAll(budget, 50), 10)
    }),
  )
})
