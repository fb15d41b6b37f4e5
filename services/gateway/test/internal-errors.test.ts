import { assert, describe, it } from "@effect/vitest"
import { type JudgeKind, JudgeKinds, withJudgeKinds } from "@stagebeam/judge"
import { Effect } from "effect"
import { startGatewayOver, startSimulators } from "./harness.ts"

const QUESTION = "Which shape is shown?\nA. circle\nB. square"

/** A judge kind with a bug: every comparison dies (a defect, not a failure the search knows). */
const buggy: JudgeKind = {
  name: "buggy",
  judging: "pairwise",
  make: () =>
    Effect.succeed({
      compare: () => Effect.die(new Error("a bug in the judge: secret-token-1234")),
      checkReasoning: () => Effect.die(new Error("a bug in the judge")),
    }),
}

describe("an internal error (a defect)", () => {
  it.live(
    "is answered with a body on both doors (HTTP 500 JSON, gRPC INTERNAL), counted INTERNAL, never CANCELLED",
    () =>
      Effect.gen(function* () {
        const generators = yield* startSimulators(1)
        const { client, gateway } = yield* startGatewayOver(generators, {
          judges: { self: { kind: "pairwise", pool: "generator" }, broken: { kind: "buggy", pool: "generator" } },
        }).pipe(Effect.provideService(JudgeKinds, withJudgeKinds(buggy)))

        const grpcError = yield* Effect.flip(
          client.Reason({ question: QUESTION, search: { candidatesPerStage: 2 }, judge: { name: "broken" } }),
        )
        assert.strictEqual(grpcError.statusName, "INTERNAL")
        assert.notInclude(grpcError.message, "secret-token")

        const response = yield* Effect.promise(() =>
          fetch(`${gateway.httpUrl}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-request-id": "req-internal-1" },
            body: JSON.stringify({
              model: "Xkev/Llama-3.2V-11B-cot",
              messages: [{ role: "user", content: QUESTION }],
              stagebeam: { candidates: 2, judge_name: "broken" },
            }),
          }).then(async (answer) => ({ status: answer.status, body: await answer.text() })),
        )
        assert.strictEqual(response.status, 500)
        const body = JSON.parse(response.body) as { error: { code: string; message: string } }
        assert.strictEqual(body.error.code, "internal")
        assert.include(body.error.message, "req-internal-1")
        assert.notInclude(response.body, "secret-token")

        const metrics = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((answer) => answer.text()))
        const outcomes = [...metrics.matchAll(/^stagebeam_reason_calls_total\{([^}]*)\} (\d+)/gm)].map((m) => m[1]!)
        assert.isTrue(
          outcomes.some(
            (labels) => labels.includes('method="ChatCompletions"') && labels.includes('outcome="INTERNAL"'),
          ),
          outcomes.join("\n"),
        )
        assert.isTrue(
          outcomes.some((labels) => labels.includes('method="Reason"') && labels.includes('outcome="INTERNAL"')),
          outcomes.join("\n"),
        )
        assert.isFalse(
          outcomes.some((labels) => labels.includes('outcome="CANCELLED"')),
          outcomes.join("\n"),
        )
      }),
  )
})
