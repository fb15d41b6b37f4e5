import { assert, describe, it } from "@effect/vitest"
import { type ChatCompletion, Fleet, OpenAiClient } from "@stagebeam/fleet"
import { Duration, Effect, Layer } from "effect"
import { Judges } from "../src/Judges.ts"

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
      const verdict = yield* judges.get("model")!.judge.compare(match)
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
