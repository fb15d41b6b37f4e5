import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { pngImage, startGatewayOver, startSimulators, urlsOf } from "./harness.ts"

const QUESTION = "How many apples are on the table?\nA. two\nB. three\nC. four\nD. five"

describe("request options end to end", () => {
  it.live("reasoning_check runs the reference's pre-check on each distinct reasoning", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(2)
      const { client } = yield* startGatewayOver(servers)
      const response = yield* client.Reason({
        question: QUESTION,
        image: { data: yield* pngImage() },
        search: { candidatesPerStage: 4, seed: "21", reasoningCheck: true },
        includeTrace: true,
      })
      const checks = response.trace.filter((event) => event.reasoningChecked).map((event) => event.reasoningChecked!)
      assert.isAbove(checks.length, 0)
      assert.strictEqual(response.usage?.correctnessChecks, checks.length)
      const reasoningStep = response.trace.find((event) => event.stepStarted?.kind === "REASONING")?.stepStarted?.step
      assert.isTrue(checks.every((check) => check.step === reasoningStep))
    }),
  )

  it.live("a question without an image is answered, with the fixed caption instead of a sampled one", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1)
      const { client } = yield* startGatewayOver(servers)
      const response = yield* client.Reason({
        question: "What is 12 times 12?",
        includeStages: true,
        includeTrace: true,
      })
      assert.isAbove(response.conclusion.length, 0)
      assert.strictEqual(response.usage?.generationCalls, 3)
      const caption = response.trace.find((event) => event.stepChosen?.kind === "CAPTION")?.stepChosen
      assert.strictEqual(caption?.by, "FIXED")
    }),
  )

  it.live("JUDGE_MODEL sends the matches to the judge model's own servers", () =>
    Effect.gen(function* () {
      const generators = yield* startSimulators(1)
      const judges = yield* startSimulators(1, { model: "judge-model" })
      const { client } = yield* startGatewayOver(generators, {
        pools: { judge: { endpoints: urlsOf(judges), model: "judge-model" } },
      })
      const response = yield* client.Reason({
        question: QUESTION,
        image: { data: yield* pngImage() },
        search: { candidatesPerStage: 3, seed: "2" },
        judge: { kind: "JUDGE_MODEL" },
        includeTrace: true,
      })
      // Every match a judge call decided (two identical candidates are a coin, with no server).
      const matches = response.trace.flatMap((event) => (event.match?.decidedBy === "JUDGE" ? [event.match] : []))
      assert.isAbove(matches.length, 0)
      assert.isTrue(matches.every((match) => match.server === judges[0]!.url))
      const candidates = response.trace.filter((event) => event.candidate).map((event) => event.candidate!)
      assert.isTrue(candidates.every((candidate) => candidate.server === generators[0]!.url))
    }),
  )
})

describe("more candidates than a server runs at once", () => {
  it.live("a search with N=20 over servers with max_num_seqs 16 completes", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(2, { maxNumSeqs: 16 })
      const { client } = yield* startGatewayOver(servers)
      const response = yield* client.Reason({
        question: QUESTION,
        image: { data: yield* pngImage() },
        // Without speculation: a finalist's next stage started ahead would add requests to the count below.
        search: { candidatesPerStage: 20, seed: "8", speculation: "SPECULATION_OFF" },
        includeTrace: true,
      })
      assert.isAbove(response.conclusion.length, 0)
      const summaries = response.trace.filter(
        (event) => event.candidate?.kind === "SUMMARY" && event.candidate.attempt === 0,
      )
      assert.strictEqual(summaries.length, 20)
      // Each stage's 20 samples took two calls (16 + 4). Calls, not engine requests (vLLM runs an n=16 call as 16
      // child requests, V0's ParallelSampleSequenceGroup), less the pool's probes of each server.
      const calls = servers.reduce(
        (sum, server) =>
          sum + server.requestRecords().filter((record) => !record.id.includes("stagebeam-probe")).length,
        0,
      )
      assert.strictEqual(calls, 2 * 4 + (response.usage?.judgeCalls ?? 0))
    }),
  )
})

describe("a token budget", () => {
  it.live("cuts the search short and completes the answer within reach, saying so", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1)
      const { client } = yield* startGatewayOver(servers)
      const response = yield* client.Reason({
        question: "Which shape?\nA. circle\nB. square",
        image: { data: yield* pngImage() },
        search: { candidatesPerStage: 4, seed: "4", tokenBudget: "600" },
        includeStages: true,
      })
      assert.strictEqual(response.truncatedReason, "BUDGET")
      assert.strictEqual(response.stages.at(-1)?.name, "CONCLUSION")
      assert.isAbove(response.conclusion.length, 0)

      const tooSmall = yield* Effect.flip(
        client.Reason({
          question: "Which shape?\nA. circle\nB. square",
          image: { data: yield* pngImage() },
          search: { candidatesPerStage: 4, seed: "4", tokenBudget: "40" },
        }),
      )
      assert.strictEqual(tooSmall.code, 8)
      assert.include(tooSmall.message, "tokens")
    }),
  )
})

describe("metrics", () => {
  it.live("are served for Prometheus: calls by outcome, admission, up servers, upstream calls", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1)
      const { client, gateway } = yield* startGatewayOver(servers)
      yield* client.Reason({
        question: QUESTION,
        image: { data: yield* pngImage() },
        search: { candidatesPerStage: 2 },
      })
      yield* Effect.flip(client.Reason({ question: "" }))
      const text = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
      assert.match(text, /stagebeam_reason_calls_total\{[^}]*outcome="OK"[^}]*\} [1-9]/)
      assert.match(text, /stagebeam_reason_calls_total\{[^}]*outcome="INVALID_ARGUMENT"[^}]*\} [1-9]/)
      assert.match(text, /stagebeam_reason_duration_seconds_bucket/)
      assert.match(text, /stagebeam_admission_waiting\S* 0/)
      assert.match(text, /stagebeam_admission_sequences\S* 0/)
      assert.match(text, /stagebeam_endpoints_up\{[^}]*pool="generator"[^}]*\} 1/)
      assert.match(text, /stagebeam_upstream_requests_total\{[^}]*outcome="ok"[^}]*\} [1-9]/)
    }),
  )
})

describe("the selection preset", () => {
  it.live("PRESET_REFERENCE is accepted, runs the reference's rules and says so in the response and the trace", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(2)
      const { client } = yield* startGatewayOver(servers)
      const image = { data: yield* pngImage() }
      const reference = yield* client.Reason({
        question: QUESTION,
        image,
        search: { candidatesPerStage: 3, seed: "8", preset: "PRESET_REFERENCE" },
        includeTrace: true,
      })
      assert.deepStrictEqual(reference.selection, {
        preset: "REFERENCE",
        tournament: "SEQUENTIAL",
        duplicates: "WEIGHT",
        reasoningCheck: "PER_MATCH",
        unclearVerdict: "SECOND",
        malformed: "KEEP",
        promptWording: "REFERENCE",
        deviations: [],
        matchOrder: "AS_PAIRED",
        verdict: "FREE_TEXT",
        votes: 1,
        bothOrders: false,
        judge: "self",
        judging: "PAIRWISE",
      })
      assert.strictEqual(reference.tournament, "SEQUENTIAL")
      assert.deepStrictEqual(reference.trace[0]?.searchStarted?.selection, reference.selection)
      // The pre-check runs in the REASONING matches (a fresh check per match), and the matches are one per round.
      assert.isAbove(reference.usage?.correctnessChecks ?? 0, 0)
      const matches = reference.trace.flatMap((event) => (event.match ? [event.match] : []))
      assert.isTrue(matches.every((match) => match.round < 2))

      const defaults = yield* client.Reason({
        question: QUESTION,
        image,
        search: { seed: "8" },
        judge: { bothOrders: true },
      })
      assert.strictEqual(defaults.selection?.preset, "DEFAULT")
      assert.deepStrictEqual(defaults.selection?.deviations, [
        "tournament",
        "reasoning_check_mode",
        "unclear_verdict",
        "malformed",
        "prompt_wording",
        "match_order",
        "verdict",
        "judge.both_orders",
      ])

      const overridden = yield* client.Reason({
        question: QUESTION,
        image,
        search: {
          seed: "8",
          preset: "PRESET_REFERENCE",
          tournament: "TOURNAMENT_KNOCKOUT",
          duplicates: "DUPLICATES_MERGE",
        },
      })
      assert.strictEqual(overridden.tournament, "KNOCKOUT")
      assert.deepStrictEqual(overridden.selection?.deviations, ["tournament", "duplicates"])
    }),
  )
})

describe("judging both orders", () => {
  it.live(
    "a judge that always favours the first position: each order names its first, so a coin decides, at two calls per match",
    () =>
      Effect.gen(function* () {
        const biased = yield* startSimulators(1, { positionBias: 1 })
        const { client } = yield* startGatewayOver(biased)
        const request = {
          question: QUESTION,
          image: { data: yield* pngImage() },
          search: { candidatesPerStage: 3, seed: "6" },
          includeTrace: true,
        }
        const plain = yield* client.Reason(request)
        const judged = (response: typeof plain) =>
          response.trace.flatMap((event) =>
            event.match !== null && ["JUDGE", "MARGIN", "COIN"].includes(event.match?.decidedBy ?? "")
              ? [event.match!]
              : [],
          )
        const plainMatches = judged(plain)
        assert.isTrue(plainMatches.every((match) => match.explicit && match.winner === match.first))

        const both = yield* client.Reason({
          ...request,
          judge: { bothOrders: true },
        })
        const matches = judged(both)
        assert.isAbove(matches.length, 0)
        // Equally sure of opposite answers: the margins cancel.
        assert.isTrue(matches.every((match) => !match.explicit && match.decidedBy === "COIN"))
        assert.isTrue(matches.every((match) => match.votesFirst === 1 && match.votesSecond === 1 && match.calls === 2))
        assert.strictEqual(both.usage?.judgeCalls, 2 * matches.length)
      }),
  )
})
