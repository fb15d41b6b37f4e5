import { assert, describe, it } from "@effect/vitest"
import { predictDecodeStepMs, predictPrefillMs, startSimulator } from "../src/index.ts"
import { eventually, mcQuestion, postChat, userTurn } from "./helpers.ts"

const fixedLength = (maxTokens: number, n: number, extra: Record<string, unknown> = {}) => ({
  messages: [userTurn(mcQuestion)],
  n,
  max_tokens: maxTokens,
  ignore_eos: true,
  ...extra,
})

/**
 * The profile's prediction for n samples of T tokens arriving at an idle server: vLLM V0 runs them as n child
 * requests (vllm/sequence.py ParallelSampleSequenceGroup), prefilled together in one step that costs each child's own
 * prompt and image tiles (the test image's header gives no size: the largest, maxTiles).
 */
const predicted = (profile: Parameters<typeof predictPrefillMs>[0], prompt: number, n: number, tokens: number) => {
  let ms = profile.prefillBaseMs + n * (predictPrefillMs(profile, prompt, profile.maxTiles) - profile.prefillBaseMs)
  for (let k = 1; k < tokens; k++) ms += predictDecodeStepMs(profile, n, n * (prompt + k))
  return ms
}

describe("performance model", () => {
  it("latency of a request grows with the running batch exactly as the profile's formulas say", async () => {
    const records = []
    for (const n of [1, 8, 16]) {
      const sim = await startSimulator({ speed: 400 })
      try {
        const res = await postChat(sim.url, fixedLength(64, n), { "X-Request-Id": `batch-${n}` })
        assert.strictEqual(res.status, 200)
        const body = (await res.json()) as { usage: { completion_tokens: number } }
        assert.strictEqual(body.usage.completion_tokens, 64 * n)
        const rec = sim.requestRecord(`batch-${n}`)!
        assert.strictEqual(rec.queueMs, 0)
        assert.strictEqual(rec.maxBatchSeen, n)
        assert.closeTo(rec.e2eMs, predicted(sim.profile, rec.promptTokens, n, 64), 1e-6)
        records.push(rec.e2eMs)
      } finally {
        await sim.close()
      }
    }
    assert.isAbove(records[1]!, records[0]!)
    assert.isAbove(records[2]!, records[1]!)
  })

  it("separate concurrent requests share decode steps, and each is slower than one alone", async () => {
    // A slow speed, so all 8 requests arrive while the first is still decoding, even on a loaded machine.
    const sim = await startSimulator({ speed: 4 })
    try {
      const alone = await postChat(sim.url, fixedLength(64, 1), { "X-Request-Id": "alone" })
      await alone.json()
      const single = sim.requestRecord("alone")!.e2eMs
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => postChat(sim.url, fixedLength(64, 1), { "X-Request-Id": `c${i}` })),
      )
      await Promise.all(responses.map((res) => res.json()))
      const records = Array.from({ length: 8 }, (_, i) => sim.requestRecord(`c${i}`)!)
      assert.strictEqual(Math.max(...records.map((rec) => rec.maxBatchSeen)), 8)
      for (const rec of records) assert.isAbove(rec.e2eMs, single)
      // The batch of 8 decodes at the profile's step time for 8 sequences, slower per step than for 1.
      assert.isAbove(
        predictDecodeStepMs(sim.profile, 8, 8 * (records[0]!.promptTokens + 32)),
        predictDecodeStepMs(sim.profile, 1, records[0]!.promptTokens + 32),
      )
    } finally {
      await sim.close()
    }
  })

  it("a queue forms past max_num_seqs and drains as slots free up", async () => {
    const sim = await startSimulator({ profile: "tiny-test", speed: 20 })
    try {
      const first = postChat(sim.url, fixedLength(200, 4), { "X-Request-Id": "first" })
      await eventually(() => sim.stats().runningSeqs === 4)
      const second = postChat(sim.url, fixedLength(10, 1), { "X-Request-Id": "second" })
      await eventually(async () => {
        const metrics = sim.metricsText()
        return /vllm:num_requests_waiting\{[^}]*\} 1\n/.test(metrics)
      })
      assert.strictEqual((await first).status, 200)
      assert.strictEqual((await second).status, 200)
      const stats = sim.stats()
      assert.strictEqual(stats.maxRunningSeqs, 4)
      assert.strictEqual(stats.maxWaitingRequests, 1)
      assert.isAbove(sim.requestRecord("second")!.queueMs, 0)
    } finally {
      await sim.close()
    }
  })

  it("a client disconnect aborts the request and frees its slots at once", async () => {
    const sim = await startSimulator({ profile: "tiny-test", speed: 20 })
    try {
      const controller = new AbortController()
      const pending = fetch(`${sim.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "X-Request-Id": "gone" },
        body: JSON.stringify(fixedLength(1000, 4)),
        signal: controller.signal,
      }).catch(() => "aborted")
      await eventually(() => sim.stats().runningSeqs === 4)
      controller.abort()
      assert.strictEqual(await pending, "aborted")
      // The n = 4 request is 4 child requests in the engine (V0's ParallelSampleSequenceGroup): all 4 abort.
      await eventually(() => sim.stats().requests.aborted === 4)
      assert.strictEqual(sim.stats().runningSeqs, 0)
      assert.strictEqual(sim.requestRecord("gone")!.outcome, "aborted")
      assert.isBelow(sim.requestRecord("gone")!.outputTokens, 4000)
    } finally {
      await sim.close()
    }
  })

  it("a full KV cache preempts and recomputes, and every sample still completes", async () => {
    const sim = await startSimulator({ profile: "tiny-test", speed: 20 })
    try {
      // Two requests of two samples: 4 x 1000 tokens need more blocks than the cache has.
      const bodies = (await Promise.all(
        [1, 2].map(async () => (await postChat(sim.url, fixedLength(1000, 2))).json()),
      )) as Array<{ choices: Array<{ finish_reason: string }> }>
      assert.deepStrictEqual(
        bodies.flatMap((b) => b.choices.map((c) => c.finish_reason)),
        ["length", "length", "length", "length"],
      )
      assert.isAbove(sim.stats().preemptions, 0)
      assert.include(sim.metricsText(), "vllm:num_preemptions_total")
    } finally {
      await sim.close()
    }
  })

  describe("--scheduling-policy priority (V0's _schedule_priority_preemption)", () => {
    const admittedAt = (rec: { arrivalMs: number; queueMs: number }) => rec.arrivalMs + rec.queueMs

    it("the waiting queue runs by priority, then arrival", async () => {
      const sim = await startSimulator({ profile: "tiny-test", speed: 20, schedulingPolicy: "priority" })
      try {
        // The first holds every slot at the top priority, so nothing is preempted and the two queue behind it.
        const first = postChat(sim.url, fixedLength(100, 4), { "X-Request-Id": "first" })
        await eventually(() => sim.stats().runningSeqs === 4)
        const low = postChat(sim.url, fixedLength(10, 4, { priority: 3 }), { "X-Request-Id": "low" })
        // Its 4 samples wait as 4 child requests (V0's ParallelSampleSequenceGroup).
        await eventually(() => sim.stats().waiting === 4)
        const high = postChat(sim.url, fixedLength(10, 4, { priority: 1 }), { "X-Request-Id": "high" })
        for (const res of await Promise.all([first, low, high])) assert.strictEqual(res.status, 200)
        const [lowRec, highRec] = [sim.requestRecord("low")!, sim.requestRecord("high")!]
        assert.isAbove(highRec.arrivalMs, lowRec.arrivalMs)
        assert.isBelow(admittedAt(highRec), admittedAt(lowRec))
        assert.strictEqual(sim.stats().preemptions, 0)
      } finally {
        await sim.close()
      }
    })

    it("a waiting request that cannot be scheduled preempts a running one of lower priority", async () => {
      const sim = await startSimulator({ profile: "tiny-test", speed: 20, schedulingPolicy: "priority" })
      try {
        const background = postChat(sim.url, fixedLength(300, 4, { priority: 5 }), { "X-Request-Id": "background" })
        await eventually(() => sim.stats().runningSeqs === 4)
        const urgent = await postChat(sim.url, fixedLength(10, 1, { priority: 0 }), { "X-Request-Id": "urgent" })
        assert.strictEqual(urgent.status, 200)
        await urgent.json()
        // The urgent one ran while the background request was out: it finished long before the background one.
        const bodyOfBackground = (await (await background).json()) as { choices: Array<{ finish_reason: string }> }
        assert.deepStrictEqual(
          bodyOfBackground.choices.map((c) => c.finish_reason),
          ["length", "length", "length", "length"],
        )
        const [urgentRec, backgroundRec] = [sim.requestRecord("urgent")!, sim.requestRecord("background")!]
        assert.strictEqual(backgroundRec.preemptions, 1)
        assert.strictEqual(urgentRec.preemptions, 0)
        assert.isBelow(urgentRec.arrivalMs + urgentRec.e2eMs, backgroundRec.arrivalMs + backgroundRec.e2eMs)
      } finally {
        await sim.close()
      }
    })

    it("under FCFS the same load queues behind the running request instead", async () => {
      const sim = await startSimulator({ profile: "tiny-test", speed: 20 })
      try {
        const background = postChat(sim.url, fixedLength(300, 4), { "X-Request-Id": "background" })
        await eventually(() => sim.stats().runningSeqs === 4)
        const urgent = await postChat(sim.url, fixedLength(10, 1), { "X-Request-Id": "urgent" })
        await urgent.json()
        await (await background).json()
        const [urgentRec, backgroundRec] = [sim.requestRecord("urgent")!, sim.requestRecord("background")!]
        assert.strictEqual(backgroundRec.preemptions, 0)
        assert.isAtLeast(admittedAt(urgentRec), backgroundRec.arrivalMs + backgroundRec.e2eMs)
      } finally {
        await sim.close()
      }
    })

    it("a full KV cache preempts the lowest-priority running request, not the newest", async () => {
      const sim = await startSimulator({ profile: "tiny-test", speed: 20, schedulingPolicy: "priority" })
      try {
        // Two requests of two samples: 4 x 1000 tokens need more blocks than the cache has; both get slots.
        const older = postChat(sim.url, fixedLength(1000, 2, { priority: 5 }), { "X-Request-Id": "older" })
        await eventually(() => sim.stats().runningSeqs === 2)
        const newer = postChat(sim.url, fixedLength(1000, 2, { priority: 0 }), { "X-Request-Id": "newer" })
        for (const res of await Promise.all([older, newer])) await res.json()
        const [olderRec, newerRec] = [sim.requestRecord("older")!, sim.requestRecord("newer")!]
        assert.isAbove(olderRec.preemptions, 0)
        assert.strictEqual(newerRec.preemptions, 0)
      } finally {
        await sim.close()
      }
    })
  })

  it("prefix caching saves prefill when the profile enables it (and mllama's does not)", async () => {
    for (const [profile, expectHits] of [
      ["tiny-test", true],
      ["llama-3.2-11b-vision-h100", false],
    ] as const) {
      const sim = await startSimulator({ profile, speed: 1000 })
      try {
        for (let i = 0; i < 2; i++) await (await postChat(sim.url, fixedLength(4, 1))).json()
        assert.strictEqual(sim.stats().cachedPrefillTokens > 0, expectHits)
      } finally {
        await sim.close()
      }
    }
  })

  it("cost accounting adds up: busy GPU time is prefill plus decode, tokens are counted", async () => {
    const sim = await startSimulator({ speed: 1000 })
    try {
      const res = await postChat(sim.url, fixedLength(20, 2))
      await res.json()
      const s = sim.stats()
      assert.closeTo(s.busyGpuSeconds, s.prefillGpuSeconds + s.decodeGpuSeconds, 1e-9)
      assert.strictEqual(s.generationTokens, 40)
      assert.strictEqual(s.decodeTokens, 38)
      // V0 runs n = 2 as two child requests, each encoding the image (4 tiles: the stub's size is unknown).
      assert.strictEqual(s.imagesEncoded, 2)
      assert.strictEqual(s.imageTilesEncoded, 8)
      assert.strictEqual(s.requests.finished, 2)
    } finally {
      await sim.close()
    }
  })
})
