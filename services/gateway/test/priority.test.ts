import { assert, describe, it } from "@effect/vitest"
import type { RequestRecord } from "@stagebeam/vllm-sim"
import { Effect, Fiber } from "effect"
import { eventually, pngImage, startGatewayOver, startSimulators } from "./harness.ts"

const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"
const NEW_SEARCHES = 6

const admittedAt = (record: RequestRecord) => record.arrivalMs + record.queueMs
const fromCall = (prefix: string) => (record: RequestRecord) => record.id.startsWith(`chatcmpl-${prefix}`)

/**
 * One search runs while six new ones arrive on a single server with 4 slots (each stage call is n=4, so one call
 * fills it): the new searches' first calls queue behind whatever runs. Counts, over the server's own records, the
 * running search's later calls that were admitted before a new search's first call that had arrived earlier and was
 * still waiting.
 */
const runUnderLoad = (policy: "fcfs" | "priority") =>
  Effect.gen(function* () {
    const servers = yield* startSimulators(1, { schedulingPolicy: policy, maxNumSeqs: 4, speed: 5 })
    const server = servers[0]!
    const { client } = yield* startGatewayOver(servers, {
      pools: { generator: { capabilities: { priority: policy === "priority" } } },
      admission: { maxRunningSequences: 64 },
    })
    const data = yield* pngImage()
    const reason = (requestId: string) =>
      client.Reason(
        { question: QUESTION, image: { data }, search: { candidatesPerStage: 4, seed: "3" } },
        { metadata: { "x-request-id": requestId } },
      )
    const running = yield* Effect.forkChild(reason("running"))
    assert.isTrue(yield* eventually(Effect.sync(() => server.stats().running > 0)))
    const fresh = yield* Effect.forkChild(
      Effect.forEach(
        Array.from({ length: NEW_SEARCHES }, (_, i) => i),
        (i) => reason(`new-${i}`),
        { concurrency: "unbounded" },
      ),
    )
    yield* Fiber.join(running)
    yield* Fiber.join(fresh)

    const records = server.requestRecords()
    const firstOfRunning = records.filter(fromCall("running.")).reduce((a, b) => (a.arrivalMs <= b.arrivalMs ? a : b))
    const later = records.filter((r) => fromCall("running.")(r) && r !== firstOfRunning)
    const newFirsts = Array.from({ length: NEW_SEARCHES }, (_, i) =>
      records.filter(fromCall(`new-${i}.`)).reduce((a, b) => (a.arrivalMs <= b.arrivalMs ? a : b)),
    )
    let overtakes = 0
    let waitedBehind = 0
    for (const call of later)
      for (const first of newFirsts) {
        if (first.arrivalMs >= call.arrivalMs || admittedAt(first) <= call.arrivalMs) continue
        // The new search's first call was waiting when the running search's call arrived.
        if (admittedAt(call) < admittedAt(first)) overtakes++
        else waitedBehind++
      }
    return { overtakes, waitedBehind, later, newFirsts }
  }).pipe(Effect.scoped)

describe("priority on servers run with --scheduling-policy priority", () => {
  it.live(
    "a running search's calls (continuations and verdicts) overtake new searches' first calls; under FCFS they queue",
    () =>
      Effect.gen(function* () {
        const byPriority = yield* runUnderLoad("priority")
        // The running search's calls went at priority 0 (continuations and CHOICE verdicts), the new searches'
        // first calls at 1, and every one that met a waiting first call went ahead of it.
        assert.isTrue(byPriority.later.every((record) => record.priority === 0))
        assert.isTrue(byPriority.later.some((record) => record.id.includes(".judge-")))
        assert.isTrue(byPriority.newFirsts.every((record) => record.priority === 1))
        assert.isAbove(byPriority.overtakes, 0)
        assert.strictEqual(byPriority.waitedBehind, 0)

        const firstComeFirstServed = yield* runUnderLoad("fcfs")
        assert.strictEqual(firstComeFirstServed.overtakes, 0)
        assert.isAbove(firstComeFirstServed.waitedBehind, 0)
      }),
    120_000,
  )
})
