import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { timeoutOrElse } from "../src/Timeout.ts"

/** A call that takes `ms` on the clock and records whether it was interrupted before finishing. */
const slowCall = (ms: number) => {
  const seen = { interrupted: false, finished: false }
  const call = Effect.sleep(ms).pipe(
    Effect.map(() => {
      seen.finished = true
      return "done"
    }),
    Effect.onInterrupt(() => Effect.sync(() => (seen.interrupted = true))),
  )
  return { call, seen }
}

for (const [clock, run] of [
  ["the live clock (a timer)", it.live],
  ["TestClock (a sleep on the clock)", it.effect],
] as const) {
  const wait = (ms: number) => (clock.startsWith("TestClock") ? TestClock.adjust(ms) : Effect.sleep(ms))

  describe(`timeoutOrElse on ${clock}`, () => {
    run("a call that finishes in time answers its result, failure included", () =>
      Effect.gen(function* () {
        const fast = slowCall(5)
        const fiber = yield* Effect.forkChild(timeoutOrElse(fast.call, 2_000, () => Effect.fail("late")))
        yield* wait(10)
        assert.strictEqual(yield* Fiber.join(fiber), "done")
        const failed = yield* Effect.exit(timeoutOrElse(Effect.fail("bad"), 2_000, () => Effect.fail("late")))
        assert.deepStrictEqual(failed, Exit.fail("bad"))
      }),
    )

    run("a late call is interrupted, and has wound down, before the fallback runs", () =>
      Effect.gen(function* () {
        const slow = slowCall(10_000)
        let interruptedFirst = false
        const fiber = yield* Effect.forkChild(
          timeoutOrElse(slow.call, 20, () =>
            Effect.suspend(() => {
              interruptedFirst = slow.seen.interrupted
              return Effect.fail("late")
            }),
          ),
        )
        yield* wait(40)
        assert.deepStrictEqual(yield* Effect.exit(Fiber.join(fiber)), Exit.fail("late"))
        assert.isTrue(interruptedFirst)
        assert.isFalse(slow.seen.finished)
      }),
    )

    run("interrupting the caller interrupts the call", () =>
      Effect.gen(function* () {
        const slow = slowCall(10_000)
        const fiber = yield* Effect.forkChild(timeoutOrElse(slow.call, 5_000, () => Effect.fail("late")))
        yield* wait(10)
        yield* Fiber.interrupt(fiber)
        assert.isTrue(slow.seen.interrupted)
        // Neither the call nor the timer fires afterwards.
        yield* wait(clock.startsWith("TestClock") ? 6_000 : 50)
        assert.isFalse(slow.seen.finished)
      }),
    )
  })
}
