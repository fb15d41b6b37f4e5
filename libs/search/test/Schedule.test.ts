import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  decodeSearchRequest,
  resolveSchedule,
  runSearch,
  ScheduleDefaults,
  type SearchRequestInput,
} from "../src/index.ts"
import { makeFakeGenerator, makeFakeJudge } from "../src/testing.ts"

const IMAGE = "data:image/png;base64,iVBORw0KGgo="
const base = { question: "How many apples?", imageUrl: IMAGE, candidates: 4, seed: 3 } as const

/** The generation calls a search makes ahead of their step, under the given defaults. */
const speculativeCalls = (input: SearchRequestInput, defaults?: ScheduleDefaults) =>
  Effect.gen(function* () {
    const gen = makeFakeGenerator({ latencyMs: 300, variants: 5 })
    const jud = makeFakeJudge({ latencyMs: 100 })
    const request = yield* decodeSearchRequest(input)
    const searched = runSearch(request).pipe(Effect.provide(Layer.merge(gen.layer, jud.layer)))
    const fiber = yield* Effect.forkChild(
      defaults === undefined ? searched : Effect.provideService(searched, ScheduleDefaults, defaults),
    )
    yield* TestClock.adjust(10_000_000)
    yield* Fiber.join(fiber)
    return gen.started.filter((call) => call.speculative === true).length
  })

describe("the schedule's defaults (resolved once, from the ScheduleDefaults reference)", () => {
  it.effect("the search's own: adaptive speculation, which an unbounded fleet always has room for", () =>
    Effect.gen(function* () {
      assert.isAbove(yield* speculativeCalls(base), 0)
    }),
  )

  it.effect("a caller's defaults apply to the requests that do not say, and a request's own choice wins", () =>
    Effect.gen(function* () {
      const off = { speculation: "OFF", speculationWidth: 2, stragglers: false } as const
      assert.strictEqual(yield* speculativeCalls(base, off), 0)
      assert.isAbove(yield* speculativeCalls({ ...base, speculation: "ALWAYS" }, off), 0)
    }),
  )

  it("stragglers are never a default of the REFERENCE preset; a request may still ask for them", () => {
    const defaults = { speculation: "ADAPTIVE", speculationWidth: 3, stragglers: true } as const
    assert.deepStrictEqual(resolveSchedule({ preset: "DEFAULT" }, defaults), {
      speculation: "ADAPTIVE",
      speculationWidth: 3,
      stragglers: true,
    })
    assert.isFalse(resolveSchedule({ preset: "REFERENCE" }, defaults).stragglers)
    assert.isTrue(resolveSchedule({ preset: "REFERENCE", stragglers: true }, defaults).stragglers)
    assert.isFalse(resolveSchedule({ preset: "DEFAULT", stragglers: false }, defaults).stragglers)
  })
})
