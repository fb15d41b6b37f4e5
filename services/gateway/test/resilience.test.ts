import { assert, describe, it } from "@effect/vitest"
import type { ReasonerClient, ReasonRequest } from "@stagebeam/proto"
import { Effect, Fiber, Stream } from "effect"
import { eventually, healthOf, pngImage, startGatewayOver, startSimulators } from "./harness.ts"

const QUESTION = "Which animal is in the picture?\nA. cat\nB. dog\nC. bird\nD. fish"
const RESOURCE_EXHAUSTED = 8
const DEADLINE_EXCEEDED = 4

describe("the gateway under faults and load", () => {
  const calls = {
    Reason: (client: ReasonerClient, request: ReasonRequest) => client.Reason(request),
    ReasonStream: (client: ReasonerClient, request: ReasonRequest) => Stream.runCollect(client.ReasonStream(request)),
  }
  for (const [method, call] of Object.entries(calls)) {
    it.live(`a client that cancels ${method} aborts the upstream requests on the GPU servers`, () =>
      Effect.gen(function* () {
        // Real-time speed: a stage takes seconds, so the cancel lands while the servers are generating.
        const servers = yield* startSimulators(1, { speed: 1 })
        const { client } = yield* startGatewayOver(servers)
        const running = yield* Effect.forkChild(
          call(client, { question: QUESTION, image: { data: yield* pngImage() }, search: { candidatesPerStage: 4 } }),
        )
        const server = servers[0]!
        assert.isTrue(yield* eventually(Effect.sync(() => server.stats().running > 0)))
        yield* Fiber.interrupt(running)
        assert.isTrue(yield* eventually(Effect.sync(() => server.stats().running === 0)))
        assert.isAtLeast(server.stats().requests.aborted, 1)
      }),
    )
  }

  it.live("answers with the best so far before the client's deadline, and says so", () =>
    Effect.gen(function* () {
      // At speed 4 the full search takes about 3.2 s with free-text verdicts (CHOICE verdicts are a few tokens, and
      // faster); the client allows 3, so the cut comes late in the search and the unjudged completion has room even
      // when this machine is busy.
      const servers = yield* startSimulators(1, { speed: 4 })
      const { client } = yield* startGatewayOver(servers)
      const data = yield* pngImage()
      const response = yield* client.Reason(
        {
          question: QUESTION,
          image: { data },
          search: { candidatesPerStage: 8, tournament: "TOURNAMENT_SEQUENTIAL", verdict: "VERDICT_MODE_FREE_TEXT" },
          includeStages: true,
        },
        { deadline: "3 seconds" },
      )
      assert.strictEqual(response.truncatedReason, "DEADLINE")
      assert.isAbove(response.conclusion.length, 0)
      assert.strictEqual(response.stages.at(-1)?.name, "CONCLUSION")
    }),
  )

  it.live("counts the time spent waiting for admission against the deadline", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1, { speed: 1 })
      const { client } = yield* startGatewayOver(servers, { admission: { maxRunningSequences: 2, maxQueued: 4 } })
      const data = yield* pngImage()
      const request = { question: QUESTION, image: { data }, search: { candidatesPerStage: 2 } }
      const first = yield* Effect.forkChild(client.Reason(request))
      assert.isTrue(yield* eventually(Effect.sync(() => servers[0]!.stats().running > 0)))
      const late = yield* Effect.flip(client.Reason(request, { deadline: "1 second" }))
      assert.strictEqual(late.code, DEADLINE_EXCEEDED)
      assert.include(late.message, "admission")
      yield* Fiber.interrupt(first)
    }),
  )

  it.live("refuses work beyond its admission limit with RESOURCE_EXHAUSTED instead of queueing it", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1, { speed: 1 })
      const { client } = yield* startGatewayOver(servers, { admission: { maxRunningSequences: 2, maxQueued: 0 } })
      const data = yield* pngImage()
      const request = { question: QUESTION, image: { data }, search: { candidatesPerStage: 2 } }
      const first = yield* Effect.forkChild(client.Reason(request))
      assert.isTrue(yield* eventually(Effect.sync(() => servers[0]!.stats().running > 0)))
      const refused = yield* Effect.flip(client.Reason(request))
      assert.strictEqual(refused.code, RESOURCE_EXHAUSTED)
      assert.include(refused.message, "capacity")
      yield* Fiber.interrupt(first)
    }),
  )

  it.live("fails over from a server that answers errors, and every call still completes", () =>
    Effect.gen(function* () {
      const [broken, healthy] = yield* startSimulators(2)
      broken!.setFaults({ errorRate: 1, errorStatus: 503 })
      const { client } = yield* startGatewayOver([broken!, healthy!])
      const data = yield* pngImage()
      const response = yield* client.Reason({
        question: QUESTION,
        image: { data },
        search: { candidatesPerStage: 3, seed: "5" },
        includeTrace: true,
      })
      assert.isAbove(response.conclusion.length, 0)
      const servers = new Set(
        response.trace.flatMap((event) => [event.candidate?.server, event.match?.server]).filter(Boolean),
      )
      assert.deepStrictEqual([...servers], [healthy!.url])
      // The broken server was tried (and failed) before it was taken out of rotation.
      assert.isAtLeast(broken!.stats().requests.faults, 1)
    }),
  )

  it.live("reports NOT_SERVING on the health service while no GPU server is up", () =>
    Effect.gen(function* () {
      const servers = yield* startSimulators(1)
      const { gateway } = yield* startGatewayOver(servers)
      assert.isTrue(
        yield* eventually(Effect.map(healthOf(gateway.address, "stagebeam.v1.Reasoner"), (s) => s === "SERVING")),
      )
      servers[0]!.setFaults({ dead: true })
      assert.isTrue(
        yield* eventually(Effect.map(healthOf(gateway.address, "stagebeam.v1.Reasoner"), (s) => s === "NOT_SERVING")),
      )
    }),
  )
})

describe("routing with other gateway replicas", () => {
  it.live("sends work to the server the others leave idle, as its /metrics shows", () =>
    Effect.gen(function* () {
      const [crowded, idle] = yield* startSimulators(2, { speed: 1 })
      // Another replica's traffic: long requests on the first server only, invisible to this gateway's own counters.
      const others = yield* Effect.forEach([1, 2, 3, 4, 5, 6], () =>
        Effect.forkChild(
          Effect.promise((signal) =>
            fetch(`${crowded!.url}/v1/chat/completions`, {
              method: "POST",
              signal,
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                model: crowded!.model,
                messages: [{ role: "user", content: "Describe everything at length." }],
                max_tokens: 2000,
                ignore_eos: true,
              }),
            }),
          ),
        ),
      )
      assert.isTrue(yield* eventually(Effect.sync(() => crowded!.stats().running === 6)))
      const { client, gateway } = yield* startGatewayOver([crowded!, idle!], { simulator: { speed: 1 } })
      assert.isTrue(
        yield* eventually(
          Effect.map(
            Effect.flatMap(gateway.fleet.pool("generator"), (pool) => pool.snapshot),
            (states) => states[0]?.reported?.running === 6,
          ),
        ),
      )
      const data = yield* pngImage()
      const stream = client.ReasonStream({
        question: QUESTION,
        image: { data },
        search: { candidatesPerStage: 2 },
      })
      // The first stage's candidates: their request went to the idle server.
      const firstCandidate = yield* stream.pipe(
        Stream.filter((event) => event.candidate !== null && event.candidate !== undefined),
        Stream.runHead,
      )
      assert.strictEqual(firstCandidate._tag, "Some")
      assert.strictEqual(firstCandidate._tag === "Some" ? firstCandidate.value.candidate?.server : "", idle!.url)
      yield* Effect.forEach(others, Fiber.interrupt)
    }),
  )
})
