import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { makeCallTimes } from "../src/CallTimes.ts"
import { boundedTryTimeout } from "../src/HangBound.ts"

/** Each case: calls recorded (label, ms, how many), the label asked about, its own and its family's 90th percentile. */
const cases: ReadonlyArray<{
  readonly name: string
  readonly recorded: ReadonlyArray<readonly [string, number, number]>
  readonly label: string
  readonly own: number | undefined
  readonly family: number | undefined
}> = [
  { name: "nothing seen", recorded: [], label: "judge-summary", own: undefined, family: undefined },
  {
    name: "the label seen enough: its own",
    recorded: [
      ["judge-summary", 100, 10],
      ["judge-caption", 900, 10],
    ],
    label: "judge-summary",
    own: 100,
    family: 100,
  },
  {
    name: "a label not seen yet: its family's, all its labels together",
    recorded: [
      ["judge-summary", 100, 6],
      ["judge-caption", 300, 5],
    ],
    label: "judge-conclusion",
    own: undefined,
    family: 300,
  },
  {
    name: "seen too few times: its family's, its own calls among them",
    recorded: [
      ["judge-summary", 100, 9],
      ["judge-conclusion", 500, 3],
    ],
    label: "judge-conclusion",
    own: undefined,
    family: 500,
  },
  {
    name: "the family's calls in order of their latency, whatever order they came in",
    recorded: [
      ["judge-caption", 1_000, 5],
      ["judge-summary", 90, 6],
    ],
    label: "judge-conclusion",
    own: undefined,
    family: 1_000,
  },
  {
    name: "another family's calls do not count",
    recorded: [["gen-summary", 4_000, 20]],
    label: "judge-summary",
    own: undefined,
    family: undefined,
  },
  {
    name: "a family that has too few between them: none",
    recorded: [
      ["judge-summary", 100, 4],
      ["judge-caption", 100, 5],
    ],
    label: "judge-conclusion",
    own: undefined,
    family: undefined,
  },
]

describe("CallTimes' latency quantiles", () => {
  for (const c of cases)
    it.effect(c.name, () =>
      Effect.gen(function* () {
        const times = yield* makeCallTimes({ floor: Duration.seconds(5), ceiling: Duration.seconds(120) })
        for (const [label, ms, count] of c.recorded)
          for (let i = 0; i < count; i++) yield* times.record("http://a", label, ms, 1)
        assert.strictEqual(times.latencyQuantileUnsafe(c.label, 0.9), c.own)
        assert.strictEqual(yield* times.familyLatencyQuantile(c.label, 0.9), c.family)
      }),
    )

  it.effect("a try's hang bound does not borrow from the family: a new stage may be slower than the others", () =>
    Effect.gen(function* () {
      const times = yield* makeCallTimes({ floor: Duration.seconds(1), ceiling: Duration.seconds(120) })
      for (let i = 0; i < 20; i++) yield* times.record("http://a", "gen-summary", 1_000, 100)
      const bound = yield* boundedTryTimeout(times, "http://a", "gen-reasoning", 2048, Duration.seconds(1))
      assert.strictEqual(
        Duration.toMillis(bound),
        Duration.toMillis(yield* times.tryTimeout("http://a", "gen-reasoning", 2048)),
      )
    }),
  )
})
