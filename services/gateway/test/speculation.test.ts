import { assert, describe, it } from "@effect/vitest"
import { initialState, type Pool } from "@stagebeam/fleet"
import type { ReasonResponse__Output } from "@stagebeam/proto"
import type { RunningSimulator } from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { fleetCapacityOf } from "../src/SearchCapacity.ts"
import { eventually, pngImage, startGatewayOver, startSimulators } from "./harness.ts"

const QUESTION = "What is the main object?\nA. cup\nB. ball\nC. book\nD. lamp"

/**
 * What the search chose and how it decided, without the times (speculation changes when, not what), sorted: the
 * matches of a round are traced as they finish, in an order no schedule fixes.
 */
const decisions = (response: ReasonResponse__Output) =>
  response.trace
    .flatMap((event): ReadonlyArray<string> => {
      if (event.stepChosen) return [`chosen ${event.stepChosen.step} ${event.stepChosen.index} ${event.stepChosen.by}`]
      if (event.match) {
        const m = event.match
        return [`match ${m.step} ${m.round} ${m.first}-${m.second} → ${m.winner} ${m.decidedBy}`]
      }
      if (event.candidate) return [`candidate ${event.candidate.step} ${event.candidate.index} ${event.candidate.text}`]
      return []
    })
    .toSorted()

/** Chat requests the servers have seen arrive, whatever became of them (finished, aborted, still queued). */
const arrived = (servers: ReadonlyArray<RunningSimulator>) =>
  servers.reduce((sum, server) => {
    const stats = server.stats()
    const r = stats.requests
    // Calls, not engine requests (vLLM runs an n=4 call as 4 child requests, V0's ParallelSampleSequenceGroup), and
    // the search's own: not the pool's probes of a server (re-probed whenever its health flaps), by their ids.
    const ended = server.requestRecords().filter((record) => !record.id.includes("stagebeam-probe")).length
    return sum + ended + stats.calls.inFlight + r.faults + r.rejected
  }, 0)

/** The calls a search counted (its chosen branch's): what the servers saw beyond them was speculated and lost. */
const counted = (response: ReasonResponse__Output) => {
  const usage = response.usage!
  return usage.generationCalls + usage.judgeCalls + usage.correctnessChecks
}

type Speculation = "SPECULATION_OFF" | "SPECULATION_ADAPTIVE" | "SPECULATION_ALWAYS"

/** A chat completion on the HTTP door with these `stagebeam` options: its status and JSON body. */
const postChat = (httpUrl: string, stagebeam: Record<string, unknown>) =>
  Effect.promise(() =>
    fetch(`${httpUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "Xkev/Llama-3.2V-11B-cot",
        messages: [{ role: "user", content: QUESTION }],
        stagebeam,
      }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as unknown })),
  )

describe("speculative next stage, through the gateway over simulated servers", () => {
  it.live("chooses the same stages as the plain search for the same seed, and throws the losers' calls away", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(2)
      const { client, gateway } = yield* startGatewayOver(servers)
      const data = yield* pngImage()
      const ask = (seed: number, speculation: Speculation, speculationWidth = 0) =>
        Effect.gen(function* () {
          // The previous search's thrown-away calls end first (a speculative loser may outlive its search's answer).
          yield* eventually(Effect.sync(() => servers.every((server) => server.stats().calls.inFlight === 0)))
          const before = arrived(servers)
          const response = yield* client.Reason({
            question: QUESTION,
            image: { data },
            // The seeded knockout: speculation must give the plain search's answer (stragglers pair by arrival).
            search: { candidatesPerStage: 4, seed: String(seed), speculation, speculationWidth, stragglers: false },
            includeTrace: true,
            includeStages: true,
          })
          return { response, lost: arrived(servers) - before - counted(response) }
        })
      let lostAhead = 0
      for (const seed of [11, 12, 13]) {
        const plain = yield* ask(seed, "SPECULATION_OFF")
        const ahead = yield* ask(seed, "SPECULATION_ALWAYS")
        const adaptive = yield* ask(seed, "SPECULATION_ADAPTIVE")
        // Wide: every candidate's next stage starts as its sample finishes.
        const wide = yield* ask(seed, "SPECULATION_ALWAYS", 4)
        assert.strictEqual(plain.lost, 0)
        assert.isAtLeast(wide.lost, ahead.lost)
        for (const other of [ahead, adaptive, wide]) {
          assert.deepStrictEqual(other.response.stages, plain.response.stages)
          assert.strictEqual(other.response.conclusion, plain.response.conclusion)
          assert.deepStrictEqual(decisions(other.response), decisions(plain.response))
          // The chosen branch's calls are the plain search's: the usage counts nothing speculated and lost.
          assert.deepStrictEqual(other.response.usage, plain.response.usage)
        }
        lostAhead += ahead.lost
      }
      // Each stage boundary with two distinct finalists speculates for both and throws the loser's call away.
      assert.isAtLeast(lostAhead, 3)
      // Operators see it: started, kept and discarded speculative calls.
      const metrics = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
      for (const outcome of ["started", "kept", "discarded"]) {
        assert.match(metrics, new RegExp(`stagebeam_speculative_calls_total\\{[^}]*outcome="${outcome}"[^}]*\\} [1-9]`))
      }
    }),
  )

  it.live("the loser's request is aborted on its server when the verdict lands", () =>
    Effect.gen(function* () {
      // Slow enough that a stage's generation clearly outlasts the final's verdict: the loser is cut mid-decode.
      const servers = yield* startSimulators(1, { speed: 5 })
      const { client } = yield* startGatewayOver(servers)
      const data = yield* pngImage()
      const [server] = servers
      const ask = (speculation: Speculation) =>
        client.Reason({
          question: QUESTION,
          image: { data },
          search: { candidatesPerStage: 4, seed: "21", speculation, stragglers: false },
          includeTrace: true,
        })
      yield* ask("SPECULATION_OFF")
      assert.strictEqual(server!.stats().requests.aborted, 0)
      const response = yield* ask("SPECULATION_ALWAYS")
      const stats = server!.stats()
      assert.isAtLeast(stats.requests.aborted, 1)
      // Nothing left running after the answer: every speculative request was kept, finished or aborted.
      assert.strictEqual(stats.running, 0)
      assert.strictEqual(stats.waiting, 0)
      assert.isAtLeast(arrived(servers), 2 * counted(response) + stats.calls.aborted)
    }),
  )

  it.live("never speculates while the fleet has no spare sequences for the next stage's call", () =>
    Effect.gen(function* () {
      // One server running at most 4 sequences, N = 4: during a final its judge call holds one, so the next
      // stage's n=4 call would queue — ADAPTIVE leaves it; ALWAYS (the control) speculates anyway.
      const servers = yield* startSimulators(1, { maxNumSeqs: 4 })
      const { client } = yield* startGatewayOver(servers, { upstream: { maxSamplesPerRequest: 4 } })
      const data = yield* pngImage()
      const ask = (seed: string, speculation: Speculation) =>
        Effect.gen(function* () {
          const before = arrived(servers)
          const response = yield* client.Reason({
            question: QUESTION,
            image: { data },
            search: { candidatesPerStage: 4, seed, speculation, stragglers: false },
            includeTrace: true,
          })
          return { response, lost: arrived(servers) - before - counted(response) }
        })
      const plain = yield* ask("31", "SPECULATION_OFF")
      const full = yield* ask("31", "SPECULATION_ADAPTIVE")
      assert.strictEqual(full.lost, 0)
      assert.deepStrictEqual(decisions(full.response), decisions(plain.response))
      const forced = yield* ask("31", "SPECULATION_ALWAYS")
      assert.isAtLeast(forced.lost, 1)
      assert.deepStrictEqual(decisions(forced.response), decisions(plain.response))
    }),
  )

  it.live("speculation_width outside 2..64 is refused naming the field, on both doors", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1)
      const { client, gateway } = yield* startGatewayOver(servers)
      const refused = yield* Effect.flip(client.Reason({ question: QUESTION, search: { speculationWidth: 1 } }))
      assert.strictEqual(refused.code, 3)
      assert.include(refused.message, "search.speculation_width")
      const response = yield* postChat(gateway.httpUrl!, { speculation_width: 65 })
      assert.strictEqual(response.status, 400)
      assert.include(JSON.stringify(response.body), "stagebeam.speculation_width")
    }),
  )

  it.live("the HTTP door takes stagebeam.speculation and refuses a misspelt one naming the field", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1)
      const { gateway } = yield* startGatewayOver(servers)
      const post = (speculation: string) => postChat(gateway.httpUrl!, { seed: 5, speculation })
      const good = yield* post("always")
      assert.strictEqual(good.status, 200, JSON.stringify(good.body))
      const bad = yield* post("sometimes")
      assert.strictEqual(bad.status, 400)
      assert.include(JSON.stringify(bad.body), "stagebeam.speculation")
    }),
  )
})

describe("the gateway's FleetCapacity", () => {
  it.effect("has no spare sequences while calls wait for admission, else the pool's", () =>
    Effect.gen(function* () {
      const pool = { snapshot: Effect.succeed([{ ...initialState("a"), inFlight: 3 }]) } as unknown as Pool
      assert.strictEqual(yield* fleetCapacityOf(pool, Effect.succeed(0), 16, 0).spareSequences, 13)
      assert.strictEqual(yield* fleetCapacityOf(pool, Effect.succeed(0), 16, 5).spareSequences, 8)
      assert.strictEqual(yield* fleetCapacityOf(pool, Effect.succeed(1), 16, 0).spareSequences, 0)
    }),
  )
})

describe("stragglers, through the gateway over simulated servers", () => {
  it.live(
    "matches start on a stage's first finished samples while the call still decodes; off is the plain search",
    () =>
      Effect.gen(function* () {
        const servers = yield* startSimulators(1, { speed: 20 })
        const { client } = yield* startGatewayOver(servers)
        const data = yield* pngImage()
        const ask = (stragglers: boolean | undefined) =>
          client.Reason({
            question: QUESTION,
            image: { data },
            search: {
              candidatesPerStage: 4,
              seed: "41",
              speculation: "SPECULATION_OFF",
              ...(stragglers === undefined ? {} : { stragglers }),
            },
            includeTrace: true,
            includeStages: true,
          })
        const plain = yield* ask(undefined)
        const off = yield* ask(false)
        assert.deepStrictEqual(decisions(off), decisions(plain))
        const streamed = yield* ask(true)
        assert.isAbove(streamed.conclusion.length, 0)
        assert.strictEqual(streamed.usage!.generationCalls, 4)
        // N − 1 matches per stage at most, as in the knockout (fewer where identical texts meet: a coin, no call).
        assert.isAtMost(streamed.usage!.judgeCalls, 4 * 3)
        // In some stage a match started before that stage's generation call had returned.
        const early = streamed.trace.filter((event) => {
          const match = event.match
          if (!match) return false
          const generated = streamed.trace.find((e) => e.candidate && e.candidate.step === match.step)?.candidate
          return generated != null && Number(match.startedAtMs) < Number(generated.endedAtMs)
        })
        assert.isAtLeast(early.length, 1)
        // Never with the plain schedule: its matches start when the call is done.
        const plainEarly = plain.trace.filter((event) => {
          const match = event.match
          if (!match) return false
          const generated = plain.trace.find((e) => e.candidate && e.candidate.step === match.step)?.candidate
          return generated != null && Number(match.startedAtMs) < Number(generated.endedAtMs)
        })
        assert.strictEqual(plainEarly.length, 0)
      }),
  )
})
