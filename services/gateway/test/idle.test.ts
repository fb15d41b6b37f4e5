import { assert, describe, it } from "@effect/vitest"
import type { RunningSimulator } from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { pngImage, startGatewayOver, startSimulators } from "./harness.ts"

/** GET /metrics requests the servers have answered, all together. */
const metricsReads = (servers: ReadonlyArray<RunningSimulator>) =>
  servers.reduce((sum, server) => sum + server.stats().metricsReads, 0)

describe("an idle gateway (issue #24)", () => {
  it.live(
    "reads no server's /metrics while it has no calls; a call's picks read them, and it stops again once idle",
    () =>
      Effect.gen(function* () {
        const servers = yield* startSimulators(2)
        const { client } = yield* startGatewayOver(servers)
        // Past the start-up round: a pool with nothing in flight reads nothing (at 027a843, a round a second).
        yield* Effect.sleep("1500 millis")
        const idle = metricsReads(servers)
        yield* Effect.sleep("2500 millis")
        assert.strictEqual(metricsReads(servers), idle, "reads while idle")
        const answer = yield* client.Reason({
          question: "Which animal is in the picture?\nA. cat\nB. dog",
          image: { data: yield* pngImage() },
          search: { candidatesPerStage: 2 },
        })
        assert.strictEqual(answer.truncatedReason, "")
        // The first pick after the idle spell read every server's report before it chose.
        const afterCall = metricsReads(servers)
        assert.isAtLeast(afterCall - idle, servers.length, "reads for the call's picks")
        // The rounds the call started end; then nothing again.
        yield* Effect.sleep("1500 millis")
        const settled = metricsReads(servers)
        yield* Effect.sleep("2500 millis")
        assert.strictEqual(metricsReads(servers), settled, "reads after the call, idle again")
      }),
    30_000,
  )
})
