import { assert, describe, it } from "@effect/vitest"
import type { ReasonRequest } from "@stagebeam/proto"
import { Effect } from "effect"
import { pngImage, startGatewayOver, startSimulators, urlsOf } from "./harness.ts"

// Three warm-up answers give the summary's, caption's and reasoning's judge labels ~9 calls each and the conclusion's
// ~4, short of the 10 a label's own 90th percentile needs: the hung calls are hedged from the start only because a
// label not seen enough goes by its family's (all judge calls; Hedging.ts). Before that, a call waited for the try's
// 5 s deadline until its own label reached 10, and the test failed about one run in three in a busy worker (once no
// hedge at all, once an answer past its deadline).

const QUESTION = "Which animal is in the picture?\nA. cat\nB. dog\nC. bird\nD. fish"

const request = Effect.map(
  pngImage(),
  (data): ReasonRequest => ({ question: QUESTION, image: { data }, search: { candidatesPerStage: 2 } }),
)

describe("hedged judge calls", () => {
  it.live(
    "a judge call slower than 9 in 10 gets a second try elsewhere, and the first answer wins",
    () =>
      Effect.gen(function* () {
        const generators = yield* startSimulators(1, { speed: 20 })
        const judges = yield* startSimulators(2, { speed: 20, model: "judge-model" })
        const { client, gateway } = yield* startGatewayOver(generators, {
          pools: { judge: { endpoints: urlsOf(judges), model: "judge-model", hedgeJudgeCalls: true } },
        })
        const ask: ReasonRequest = {
          ...(yield* request),
          judge: { kind: "JUDGE_MODEL" },
          search: { candidatesPerStage: 4 },
        }
        // Enough judge calls for the pool to know its 90th percentile.
        yield* Effect.forEach([1, 2, 3], () => client.Reason(ask), { concurrency: 3 })
        judges[1]!.setFaults({ hangRate: 0.5 })
        const answers = yield* Effect.forEach([1, 2, 3, 4], () => client.Reason(ask), { concurrency: 4 })
        for (const answer of answers) assert.strictEqual(answer.truncatedReason, "")
        assert.isAbove(judges[1]!.stats().requests.faults, 0)
        const metrics = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
        const hedged = /^stagebeam_upstream_hedges_total\{[^}]*pool="judge"[^}]*\} (\d+)/m.exec(metrics)
        assert.isAbove(
          Number(hedged?.[1] ?? 0),
          0,
          metrics
            .split("\n")
            .filter((l) => l.includes("hedge"))
            .join("\n"),
        )
      }),
    60_000,
  )
})
