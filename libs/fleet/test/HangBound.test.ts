import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { makeCallTimes } from "../src/CallTimes.ts"
import { boundedTryTimeout } from "../src/HangBound.ts"

describe("a try's timeout", () => {
  it.effect("follows the label's observed latency, not a per-token speed that short calls inflate", () =>
    Effect.gen(function* () {
      const times = yield* makeCallTimes({ floor: Duration.millis(50), ceiling: Duration.seconds(120) })
      // Calls of 400 ms that wrote 2 tokens each (about 200 ms a token), then one of 500 ms that wrote 500: the
      // derived timeout is 1,000 tokens at the slow speed, past the ceiling.
      for (let i = 0; i < 11; i++) yield* times.record("http://a", "stage", 400, 2)
      yield* times.record("http://a", "stage", 500, 500)
      assert.strictEqual(Duration.toMillis(yield* times.tryTimeout("http://a", "stage", 1024)), 120_000)
      const bounded = yield* boundedTryTimeout(times, "http://a", "stage", 1024, Duration.millis(50))
      assert.strictEqual(Duration.toMillis(bounded), 1_500)
    }),
  )

  it.effect("is never under the floor, and is the derived one until the label has been seen enough", () =>
    Effect.gen(function* () {
      const times = yield* makeCallTimes({ floor: Duration.seconds(5), ceiling: Duration.seconds(120) })
      for (let i = 0; i < 12; i++) yield* times.record("http://a", "judge", 100, 1)
      const floored = yield* boundedTryTimeout(times, "http://a", "judge", 8, Duration.seconds(5))
      assert.strictEqual(Duration.toMillis(floored), 5_000)
      const unseen = yield* boundedTryTimeout(times, "http://a", "stage", 1024, Duration.seconds(5))
      assert.strictEqual(
        Duration.toMillis(unseen),
        Duration.toMillis(yield* times.tryTimeout("http://a", "stage", 1024)),
      )
    }),
  )
})
