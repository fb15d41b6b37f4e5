import { assert, describe, it } from "@effect/vitest"
import { type ChatCompletion, Fleet, OpenAiClient } from "@stagebeam/fleet"
import { Duration, Effect, Layer } from "effect"
import type { JudgeKind } from "../src/JudgeKind.ts"
import { Judges } from "../src/Judges.ts"
import { JudgeKinds, withJudgeKinds } from "../src/Kinds.ts"

const reply = (text: string): ChatCompletion => ({
  id: "c",
  model: "m",
  choices: [{ index: 0, message: { content: text }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1 },
})

/** Servers that answer with the name of their pool, so a verdict shows which pool judged. */
const client = Layer.succeed(
  OpenAiClient,
  OpenAiClient.of({
    chat: (target) => Effect.succeed(reply(`${target.pool} says: I choose response 1.`)),
    post: (target, path) => Effect.succeed({ data: [{ index: 0, data: [[0.1], [0.7]] }], path, pool: target.pool }),
    health: () => Effect.succeed(true),
    serverLoad: () => Effect.succeed(undefined),
    get: () => Effect.succeed(undefined),
  }),
)

const pool = (name: string, model: string) => ({
  name,
  endpoints: [`http://${name}`],
  model,
  requestTimeout: Duration.seconds(5),
  maxAttempts: 1,
  failureThreshold: 3,
  cooldown: Duration.seconds(1),
  healthInterval: Duration.seconds(10),
  metricsInterval: Duration.seconds(10),
})

const fleet = Fleet.layer({ pools: [pool("generator", "policy"), pool("judge", "big-judge")] }).pipe(
  Layer.provide(client),
)

describe("Judges", () => {
  it.effect("builds every declared judge over its pool, by name", () =>
    Effect.gen(function* () {
      const judges = yield* Judges
      assert.deepStrictEqual(
        judges.all.map((judge) => [judge.name, judge.pool, judge.model]),
        [
          ["self", "generator", "policy"],
          ["model", "judge", "big-judge"],
        ],
      )
      assert.strictEqual(judges.defaultName, "self")
      assert.isUndefined(judges.get("nope"))
      const match = {
        kind: "CAPTION" as const,
        question: "q",
        imageUrl: undefined,
        hint: undefined,
        first: "a",
        second: "b",
        seed: 1,
        wording: "CORRECTED" as const,
        unclearVerdict: "ASK_SWAPPED" as const,
      }
      const verdict = yield* judges.get("model")!.judge.compare!(match)
      assert.include(verdict.raw, "judge says")
      assert.strictEqual(verdict.server, "http://judge")
    }).pipe(
      Effect.provide(
        Judges.layer({
          judges: [
            { name: "self", kind: "pairwise", pool: "generator" },
            { name: "model", kind: "pairwise", pool: "judge" },
          ],
          defaultName: "self",
        }).pipe(Layer.provide(fleet)),
      ),
    ),
  )
})

const match = {
  kind: "REASONING" as const,
  question: "q",
  imageUrl: undefined,
  hint: undefined,
  first: "a long reasoning with many words",
  second: "short",
  seed: 1,
  wording: "CORRECTED" as const,
  unclearVerdict: "ASK_SWAPPED_THEN_COIN" as const,
}

/** A custom kind: prefers the shorter text, asks no model. */
const shorter: JudgeKind = {
  name: "shorter",
  judging: "pairwise",
  make: () =>
    Effect.succeed({
      compare: (m) =>
        Effect.succeed({
          winner: (m.first ?? "").length <= (m.second ?? "").length ? (0 as const) : (1 as const),
          raw: "the shorter one",
          explicit: true,
          server: "",
          promptTokens: 0,
          completionTokens: 0,
        }),
      checkReasoning: () =>
        Effect.succeed({ correct: true, raw: "", server: "", promptTokens: 0, completionTokens: 0 }),
    }),
}

describe("judge kinds", () => {
  it.effect("a kind registered with JudgeKinds is declared by name like the built-in ones", () =>
    Effect.gen(function* () {
      const judges = yield* Judges
      const brief = judges.get("brief")!
      assert.strictEqual(brief.judging, "pairwise")
      const verdict = yield* brief.judge.compare!(match)
      assert.strictEqual(verdict.winner, 1)
      const reward = judges.get("reward")!
      assert.strictEqual(reward.judging, "pointwise")
      assert.strictEqual(reward.kind, "reward")
      const scores = yield* reward.judge.score!({
        kind: "CAPTION",
        question: "q",
        imageUrl: undefined,
        responses: ["x", "y"],
        seed: 1,
      })
      // The last token's reward of each (ALL pooling), one call per response.
      assert.deepStrictEqual(scores.scores, [0.7, 0.7])
      assert.strictEqual(scores.calls, 2)
    }).pipe(
      Effect.provide(
        Judges.layer({
          judges: [
            { name: "brief", kind: "shorter", pool: "judge" },
            { name: "reward", kind: "reward", pool: "judge" },
          ],
          defaultName: "brief",
        }).pipe(Layer.provide(fleet)),
      ),
      Effect.provideService(JudgeKinds, withJudgeKinds(shorter)),
    ),
  )

  it.effect("an unknown kind fails the layer, naming the judge and the known kinds", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(
          Judges.layer({ judges: [{ name: "odd", kind: "oracle", pool: "judge" }], defaultName: "odd" }).pipe(
            Layer.provide(fleet),
          ),
        ),
      )
      assert.strictEqual(error._tag, "UnknownJudgeKind")
      assert.include(error.message, "judges.odd.kind")
      assert.include(error.message, "pairwise, reward, cross-encoder, rating")
    }).pipe(Effect.scoped),
  )
})
