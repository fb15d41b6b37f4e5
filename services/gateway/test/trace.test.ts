import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { pngImage, startGatewayOver, startSimulators } from "./harness.ts"

const QUESTION = "What is the main object?\nA. cup\nB. ball\nC. book\nD. lamp"

describe("STAGE_BEAM at N=4 against the simulator", () => {
  it.live("makes one generation request per stage, at most 12 judge calls, and overlaps each round's matches", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(2)
      const { client } = yield* startGatewayOver(servers)
      const data = yield* pngImage()
      const response = yield* client.Reason({
        question: QUESTION,
        image: { data },
        // The plain schedule: speculation would add the calls it starts ahead to the servers' count below.
        search: { candidatesPerStage: 4, seed: "11", speculation: "SPECULATION_OFF" },
        includeTrace: true,
      })
      const usage = response.usage!
      assert.strictEqual(usage.generationCalls, 4)
      assert.isAtMost(usage.judgeCalls, 12)

      // The servers saw exactly those calls: nothing hidden, nothing retried.
      // Calls, not engine requests (vLLM runs an n=4 call as 4 child requests), less each server's choice-field probe.
      const served = servers.reduce(
        (sum, server) =>
          sum + server.requestRecords().filter((record) => !record.id.includes("stagebeam-probe")).length,
        0,
      )
      assert.strictEqual(served, usage.generationCalls + usage.judgeCalls + usage.correctnessChecks)

      const steps = response.trace.filter((event) => event.stepStarted).map((event) => event.stepStarted!)
      assert.deepStrictEqual(
        steps.map((step) => step.kind),
        ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"],
      )
      const candidates = response.trace.filter((event) => event.candidate).map((event) => event.candidate!)
      assert.strictEqual(candidates.length, 16)
      // Each stage's 4 candidates come from one n=4 request: same server, same start and end.
      for (const step of steps) {
        const mine = candidates.filter((candidate) => candidate.step === step.step)
        assert.strictEqual(new Set(mine.map((c) => `${c.server}|${c.startedAtMs}|${c.endedAtMs}`)).size, 1)
      }

      // Every match a judge call decided (a match between two identical candidates is a coin, with no call).
      const matches = response.trace
        .filter((event) => event.match && event.match.decidedBy !== "IDENTICAL")
        .map((event) => event.match!)
      assert.strictEqual(matches.length, usage.judgeCalls)
      // The simulator understood every judge prompt and named a response (no silent default to response 2).
      for (const match of matches) assert.isTrue(match.explicit, match.verdict)
      let overlappingRounds = 0
      for (const step of steps) {
        const first = matches.filter((match) => match.step === step.step && match.round === 0)
        if (first.length === 2) {
          const [a, b] = first.map((m) => ({ start: Number(m.startedAtMs), end: Number(m.endedAtMs) }))
          assert.isTrue(a!.start < b!.end && b!.start < a!.end, `step ${step.step}: round 0 matches overlap`)
          overlappingRounds++
        }
      }
      // With 4 candidates per stage at least one stage has 4 distinct ones, hence a two-match first round.
      assert.isAtLeast(overlappingRounds, 1)
    }),
  )
})
