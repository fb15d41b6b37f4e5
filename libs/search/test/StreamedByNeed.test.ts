import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  CandidateGenerator,
  decodeSearchRequest,
  FleetCapacity,
  runSearch,
  type SearchRequestInput,
} from "../src/index.ts"
import { makeFakeGenerator, makeFakeJudge } from "../src/testing.ts"

/**
 * A generation call is streamed (the fleet asks the server for SSE) only when something listens to its samples as
 * they finish: a stream parsed token by token for no one was a third of the gateway's upstream calls (issue #24).
 */

const IMAGE = "data:image/png;base64,iVBORw0KGgo="

/** Runs a search over fakes, recording for each generation call whether it was given a listener. */
const listenedCalls = (input: SearchRequestInput) =>
  Effect.gen(function* () {
    const gen = makeFakeGenerator({ latencyMs: 300, variants: 5 })
    const listened: Array<boolean> = []
    const recording = Layer.succeed(
      CandidateGenerator,
      CandidateGenerator.of({
        generate: (request, onSample) =>
          Effect.flatMap(CandidateGenerator, (inner) => {
            listened.push(onSample !== undefined)
            return inner.generate(request, onSample)
          }).pipe(Effect.provide(gen.layer)),
      }),
    )
    const capacity = Layer.succeed(FleetCapacity, { spareSequences: Effect.succeed(Number.POSITIVE_INFINITY) })
    const layer = Layer.mergeAll(recording, makeFakeJudge({ latencyMs: 100 }).layer, capacity)
    const request = yield* decodeSearchRequest(input)
    const fiber = yield* Effect.forkChild(runSearch(request).pipe(Effect.provide(layer)))
    yield* TestClock.adjust(10_000_000)
    const result = yield* Fiber.join(fiber)
    return { listened, stages: result.stages.length }
  })

describe("streaming only what someone reads", () => {
  it.effect("speculative calls of the default schedule (width 2, no stragglers) are made without a listener", () =>
    Effect.gen(function* () {
      const { listened, stages } = yield* listenedCalls({
        question: "How many apples?",
        imageUrl: IMAGE,
        candidates: 4,
        seed: 3,
        speculation: "ALWAYS",
      })
      // Speculation made calls ahead (more calls than stages), and none of them had a listener.
      assert.isAbove(listened.length, stages)
      assert.deepStrictEqual(
        listened.filter((heard) => heard),
        [],
      )
    }),
  )

  it.effect("where the next stage does listen (speculation on each sample), its calls ahead are streamed", () =>
    Effect.gen(function* () {
      const { listened } = yield* listenedCalls({
        question: "How many apples?",
        imageUrl: IMAGE,
        candidates: 4,
        seed: 3,
        speculation: "ALWAYS",
        speculationWidth: 64,
      })
      assert.isAbove(listened.filter((heard) => heard).length, 0)
    }),
  )
})
