import { assert, describe, it } from "@effect/vitest"
import { type JudgeKind, JudgeKinds, withJudgeKinds } from "@stagebeam/judge"
import type { ReasonResponse__Output } from "@stagebeam/proto"
import { Effect } from "effect"
import { pngImage, startGateway, startGatewayOver, startSimulators, urlsOf } from "./harness.ts"

const QUESTION = "How many apples are on the table?\nA. two\nB. three\nC. four\nD. five"

const matchesOf = (response: ReasonResponse__Output) =>
  response.trace.flatMap((event) =>
    event.match && ["JUDGE", "MARGIN", "COIN"].includes(event.match.decidedBy) ? [event.match] : [],
  )
const scoresOf = (response: ReasonResponse__Output) =>
  response.trace.flatMap((event) => (event.scored ? [event.scored] : []))

describe("judges by name", () => {
  it.live("the embedded default declares a pairwise self-judge, the same with free text, and a reward judge", () =>
    Effect.gen(function* () {
      const { client } = yield* startGateway()
      const listed = yield* client.ListJudges({})
      assert.strictEqual(listed.defaultJudge, "self")
      assert.deepStrictEqual(
        listed.judges.map((judge) => [
          judge.name,
          judge.kind,
          judge.pool,
          judge.judging,
          judge.verdicts,
          judge.isDefault,
        ]),
        [
          ["self", "pairwise", "generator", "PAIRWISE", "choice", true],
          ["self-free-text", "pairwise", "generator", "PAIRWISE", "free_text", false],
          ["reward", "reward", "reward", "POINTWISE", "", false],
        ],
      )
      assert.strictEqual(listed.judges[0]?.model, "Xkev/Llama-3.2V-11B-cot")
      // The embedded fleet is vLLM 0.10.2: its choice field is guided_choice (protocol.py; structured_outputs came in 0.11).
      assert.strictEqual(listed.judges[0]?.capabilities?.constrainedChoice, "guided_choice")
      assert.strictEqual(listed.judges[2]?.model, "internlm/internlm-xcomposer2d5-7b-reward")
      assert.isTrue(listed.judges[2]?.capabilities?.pooling)

      // Every kind runs with no setup.
      const image = { data: yield* pngImage() }
      const ask = (name: string) =>
        client.Reason({ question: QUESTION, image, search: { seed: "3" }, judge: { name }, includeTrace: true })
      const self = yield* ask("self")
      assert.isAbove(matchesOf(self).length, 0)
      assert.isTrue(
        matchesOf(self).every(
          (match) => match.verdictMode === "CHOICE" && match.margin !== undefined && match.margin !== null,
        ),
      )
      assert.strictEqual(self.selection?.judge, "self")
      const free = yield* ask("self-free-text")
      assert.isTrue(matchesOf(free).every((match) => match.verdictMode === "FREE_TEXT"))
      // The selection says what ran: free text, though the preset asks for CHOICE.
      assert.strictEqual(free.selection?.verdict, "FREE_TEXT")
      assert.notInclude(free.selection?.deviations ?? [], "verdict")
      const reward = yield* ask("reward")
      assert.strictEqual(matchesOf(reward).length, 0)
      assert.isAbove(scoresOf(reward).length, 0)
      assert.strictEqual(reward.usage?.judgeCalls, 0)
      assert.isAbove(reward.usage?.scoringCalls ?? 0, 0)
      assert.strictEqual(reward.selection?.judging, "POINTWISE")
      const swires = yield* client.Reason({
        question: QUESTION,
        image,
        search: { strategy: "STRATEGY_SWIRES", seed: "5" },
        judge: { name: "reward" },
        includeStages: true,
      })
      assert.strictEqual(swires.strategy, "SWIRES")
      assert.deepStrictEqual(
        swires.stages.map((stage) => stage.name),
        ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"],
      )
    }),
  )

  it.live("each kind on its own servers: a pairwise judge pool, a reward server, a cross-encoder, a rating judge", () =>
    Effect.gen(function* () {
      const generators = yield* startSimulators(1)
      const judgePool = yield* startSimulators(1, { model: "judge-model" })
      // A judge that always favours the first response: judged in both orders, every verdict changes with the order.
      const biasedPool = yield* startSimulators(1, { model: "judge-model", positionBias: 1 })
      const sglangJudge = yield* startSimulators(1, { model: "judge-model", behaviour: "sglang" })
      const rewardServer = yield* startSimulators(1, { model: "rm", task: "reward" })
      const crossEncoder = yield* startSimulators(1, { model: "ce", task: "score" })
      const { client, gateway } = yield* startGatewayOver(generators, {
        pools: {
          judge: { endpoints: urlsOf(judgePool), model: "judge-model" },
          plain: { endpoints: urlsOf(sglangJudge), model: "judge-model" },
          biased: { endpoints: urlsOf(biasedPool), model: "judge-model" },
          reward: { endpoints: urlsOf(rewardServer), model: "rm", capabilities: { pooling: true } },
          scorer: { endpoints: urlsOf(crossEncoder), model: "ce", capabilities: { score: true, images: false } },
        },
        judges: {
          self: { kind: "pairwise", pool: "generator" },
          model: { kind: "pairwise", pool: "judge" },
          plain: { kind: "pairwise", pool: "plain" },
          biased: { kind: "pairwise", pool: "biased" },
          rm: { kind: "reward", pool: "reward" },
          ce: { kind: "cross-encoder", pool: "scorer" },
          rater: { kind: "rating", pool: "judge" },
        },
        defaultJudge: "self",
      })
      const image = { data: yield* pngImage() }
      const ask = (name: string, extra: object = {}) =>
        client.Reason({
          question: QUESTION,
          image,
          search: { seed: "9", candidatesPerStage: 3, ...extra },
          judge: { name },
          includeTrace: true,
        })

      const model = yield* ask("model")
      const modelMatches = matchesOf(model)
      assert.isAbove(modelMatches.length, 0)
      assert.isTrue(modelMatches.every((match) => match.server === judgePool[0]!.url && match.verdictMode === "CHOICE"))

      // SGLang has no list-of-choices field: its verdicts are free text, automatically.
      const plain = yield* ask("plain")
      assert.isTrue(matchesOf(plain).every((match) => match.server === sglangJudge[0]!.url))
      assert.isTrue(matchesOf(plain).every((match) => match.verdictMode === "FREE_TEXT"))
      assert.strictEqual(plain.selection?.verdict, "FREE_TEXT")
      const listed = yield* client.ListJudges({})
      assert.strictEqual(listed.judges.find((judge) => judge.name === "plain")?.verdicts, "free_text")
      assert.strictEqual(listed.judges.find((judge) => judge.name === "model")?.verdicts, "choice")

      for (const [name, server] of [
        ["rm", rewardServer[0]!],
        ["ce", crossEncoder[0]!],
        ["rater", judgePool[0]!],
      ] as const) {
        const before = server.stats().requests.finished
        const scored = yield* ask(name)
        const scores = scoresOf(scored)
        assert.isAbove(scores.length, 0, name)
        assert.isTrue(
          scores.every((score) => score.server === server.url),
          name,
        )
        // Each step keeps its highest-scored candidate.
        for (const chosen of scored.trace.flatMap((event) => (event.stepChosen ? [event.stepChosen] : []))) {
          if (chosen.by !== "SCORE") continue
          const step = scores.filter((score) => score.step === chosen.step)
          assert.strictEqual(
            step.find((score) => score.index === chosen.index)?.score,
            Math.max(...step.map((s) => s.score)),
          )
        }
        assert.isAbove(server.stats().requests.finished, before, name)
      }
      // The cross-encoder scores a stage's candidates in one call; the reward model one call per candidate.
      const ce = yield* ask("ce")
      const rm = yield* ask("rm")
      assert.isBelow(ce.usage?.scoringCalls ?? 0, rm.usage?.scoringCalls ?? 0)

      yield* client.Reason({
        question: QUESTION,
        image,
        search: { seed: "9", candidatesPerStage: 3 },
        judge: { name: "biased", bothOrders: true },
      })
      // Calls, latency, re-asks, coins and order flips per judge name.
      const metrics = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
      assert.match(metrics, /stagebeam_judge_calls_total\{[^}]*judge="model"[^}]*\} [1-9]/)
      assert.match(metrics, /stagebeam_judge_calls_total\{[^}]*call="score"[^}]*judge="rm"|judge="rm"[^}]*call="score"/)
      assert.match(metrics, /stagebeam_judge_call_duration_seconds_count\{[^}]*judge="model"/)
      assert.match(metrics, /stagebeam_judge_swapped_order_total\{[^}]*judge="model"[^}]*\} [1-9]/)
      assert.match(metrics, /stagebeam_judge_order_flips_total\{[^}]*judge="biased"[^}]*\} [1-9]/)
      assert.notMatch(metrics, /stagebeam_judge_order_flips_total\{[^}]*judge="model"[^}]*\} [1-9]/)
      assert.match(metrics, /stagebeam_judge_match_decisions_total\{[^}]*judge="model"/)
    }),
  )

  it.live("an unknown name is INVALID_ARGUMENT listing the declared judges; SWIRES refuses a pairwise judge", () =>
    Effect.gen(function* () {
      const { client } = yield* startGateway()
      const image = { data: yield* pngImage() }
      const unknown = yield* Effect.flip(client.Reason({ question: QUESTION, image, judge: { name: "oracle" } }))
      assert.strictEqual(unknown.statusName, "INVALID_ARGUMENT")
      assert.include(unknown.message, 'unknown judge "oracle"')
      assert.include(unknown.message, "self, self-free-text, reward")
      const swires = yield* Effect.flip(
        client.Reason({ question: QUESTION, image, search: { strategy: "STRATEGY_SWIRES" }, judge: { name: "self" } }),
      )
      assert.strictEqual(swires.statusName, "INVALID_ARGUMENT")
      assert.include(swires.message, "judge.name")
      assert.include(swires.message, "declared: reward")
      // The old selector still works: JUDGE_SELF is "self"; this gateway has no "model".
      const model = yield* Effect.flip(client.Reason({ question: QUESTION, image, judge: { kind: "JUDGE_MODEL" } }))
      assert.strictEqual(model.statusName, "INVALID_ARGUMENT")
      assert.include(model.message, "judge.kind")
      const self = yield* client.Reason({ question: QUESTION, image, judge: { kind: "JUDGE_SELF" } })
      assert.strictEqual(self.selection?.judge, "self")
    }),
  )

  it.effect("a judge of an unknown kind stops the start, naming the setting and the known kinds", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        startGateway({ judges: { odd: { kind: "oracle", pool: "generator" } }, defaultJudge: "odd" }),
      )
      assert.include(String(error), "judges.odd.kind")
      assert.include(String(error), "pairwise, reward, cross-encoder, rating")
    }),
  )
})

/** A custom kind: prefers the shorter of the two texts (or the longer, as its options say), asking no model. */
const byLength: JudgeKind = {
  name: "length",
  judging: "pairwise",
  make: (_pool, declaration) =>
    Effect.succeed({
      compare: (match) => {
        const longer = declaration.options?.custom?.prefer === "longer"
        const firstWins = longer
          ? (match.first ?? "").length >= (match.second ?? "").length
          : (match.first ?? "").length <= (match.second ?? "").length
        return Effect.succeed({
          winner: firstWins ? (0 as const) : (1 as const),
          raw: `the ${longer ? "longer" : "shorter"} reasoning`,
          explicit: true,
          server: "",
          promptTokens: 0,
          completionTokens: 0,
        })
      },
      checkReasoning: () =>
        Effect.succeed({ correct: true, raw: "", server: "", promptTokens: 0, completionTokens: 0 }),
    }),
}

describe("a custom judge kind", () => {
  it.live("registered with JudgeKinds and declared in the settings, it is picked by name", () =>
    Effect.gen(function* () {
      const generators = yield* startSimulators(1)
      const { client } = yield* startGatewayOver(generators, {
        judges: {
          self: { kind: "pairwise", pool: "generator" },
          brief: { kind: "length", pool: "generator" },
          thorough: { kind: "length", pool: "generator", options: { prefer: "longer" } },
        },
      }).pipe(Effect.provideService(JudgeKinds, withJudgeKinds(byLength)))
      const listed = yield* client.ListJudges({})
      assert.deepStrictEqual(
        listed.judges.map((judge) => [judge.name, judge.kind]),
        [
          ["self", "pairwise"],
          ["brief", "length"],
          ["thorough", "length"],
        ],
      )
      const response = yield* client.Reason({
        question: QUESTION,
        image: { data: yield* pngImage() },
        search: { seed: "4", candidatesPerStage: 4 },
        judge: { name: "brief" },
        includeTrace: true,
      })
      // At every stage the chosen text is the shortest of the valid candidates.
      for (const chosen of response.trace.flatMap((event) => (event.stepChosen ? [event.stepChosen] : []))) {
        const lengths = response.trace
          .flatMap((event) => (event.candidate?.step === chosen.step && event.candidate.valid ? [event.candidate] : []))
          .map((candidate) => candidate.text.length)
        assert.strictEqual(chosen.text.length, Math.min(...lengths))
      }
      assert.isTrue(matchesOf(response).every((match) => match.verdict === "the shorter reasoning"))
      assert.strictEqual(response.selection?.judge, "brief")
      // The same kind with its own options (judges.<name>.options): the longest text wins.
      const longest = yield* client.Reason({
        question: QUESTION,
        search: { seed: "4", candidatesPerStage: 4 },
        judge: { name: "thorough" },
        includeTrace: true,
      })
      for (const chosen of longest.trace.flatMap((event) => (event.stepChosen ? [event.stepChosen] : []))) {
        if (chosen.by !== "TOURNAMENT") continue
        const lengths = longest.trace
          .flatMap((event) => (event.candidate?.step === chosen.step && event.candidate.valid ? [event.candidate] : []))
          .map((candidate) => candidate.text.length)
        assert.strictEqual(chosen.text.length, Math.max(...lengths))
      }
    }),
  )
})
