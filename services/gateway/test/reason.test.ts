import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { pngImage, startGateway } from "./harness.ts"

const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"

describe("Reason over a simulated fleet", () => {
  it.live("answers with a conclusion and, on request, the four stages in order", () =>
    Effect.gen(function* () {
      const { client } = yield* startGateway()
      const data = yield* pngImage()
      const response = yield* client.Reason({
        question: QUESTION,
        image: { data },
        includeStages: true,
        search: { seed: "7" },
      })
      assert.isAbove(response.conclusion.length, 0)
      assert.deepStrictEqual(
        response.stages.map((stage) => stage.name),
        ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"],
      )
      assert.strictEqual(response.stages[3]?.text, response.conclusion)
      assert.strictEqual(response.strategy, "STAGE_BEAM")
      assert.strictEqual(response.usage?.generationCalls, 4)
      assert.strictEqual(response.seed, "7")

      const hidden = yield* client.Reason({
        question: QUESTION,
        image: { data },
      })
      assert.isAbove(hidden.conclusion.length, 0)
      assert.strictEqual(hidden.stages.length, 0)
    }),
  )

  it.live("gives the same answer for the same seed", () =>
    Effect.gen(function* () {
      const { client } = yield* startGateway()
      const data = yield* pngImage()
      const ask = client.Reason({
        question: QUESTION,
        image: { data },
        includeStages: true,
        search: { seed: "42", candidatesPerStage: 3 },
      })
      const [first, second] = yield* Effect.all([ask, ask], { concurrency: 2 })
      assert.deepStrictEqual(first?.stages, second?.stages)
    }),
  )

  it.live("streams the search as it happens and ends with the answer", () =>
    Effect.gen(function* () {
      const { client } = yield* startGateway()
      const data = yield* pngImage()
      const events = yield* Stream.runCollect(
        client.ReasonStream({
          question: QUESTION,
          image: { data },
          search: { candidatesPerStage: 2, seed: "3" },
        }),
      )
      const kinds = events.map((event) => event.event)
      assert.strictEqual(kinds[0], "searchStarted")
      assert.strictEqual(events[0]?.searchStarted?.selection?.preset, "DEFAULT")
      assert.strictEqual(kinds[1], "stepStarted")
      assert.strictEqual(kinds.at(-1), "done")
      assert.strictEqual(kinds.filter((kind) => kind === "stepChosen").length, 4)
      assert.isTrue(kinds.includes("candidate"))
      assert.isAbove(events.at(-1)?.done?.conclusion.length ?? 0, 0)
    }),
  )
})
