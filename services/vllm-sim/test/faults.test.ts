import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import OpenAI from "openai"
import { serveSimulator, startSimulator } from "../src/index.ts"
import { eventually, getJson, mcQuestion, postChat, userTurn } from "./helpers.ts"

const body = { messages: [userTurn(mcQuestion)], max_tokens: 64 }
const health = (url: string) =>
  fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.status,
    () => "down" as const,
  )

describe("fault injection", () => {
  it("errors by status code, set at start and changed at run time through the admin endpoint", async () => {
    const sim = await startSimulator({ speed: 500, faults: { errorRate: 1, errorStatus: 503 } })
    try {
      const res = await postChat(sim.url, body)
      assert.strictEqual(res.status, 503)
      assert.strictEqual(((await res.json()) as { error: { code: number } }).error.code, 503)
      const put = await fetch(`${sim.url}/sim/faults`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ errorRates: { "429": 1 } }),
        signal: AbortSignal.timeout(2000),
      })
      assert.deepStrictEqual(await put.json(), { errorRates: { "429": 1 } })
      assert.strictEqual((await postChat(sim.url, body)).status, 429)
      await fetch(`${sim.url}/sim/faults`, { method: "DELETE", signal: AbortSignal.timeout(2000) })
      assert.strictEqual((await postChat(sim.url, body)).status, 200)
      assert.strictEqual(sim.stats().requests.faults, 2)
    } finally {
      await sim.close()
    }
  })

  it("added latency and jitter are counted in virtual time", async () => {
    const sim = await startSimulator({ speed: 1000, faults: { latencyMs: 500 } })
    try {
      await (await postChat(sim.url, body)).json()
      assert.strictEqual(sim.stats().faultLatencyMs, 500)
      sim.updateFaults({ jitterMs: 100 })
      await (await postChat(sim.url, body)).json()
      const added = sim.stats().faultLatencyMs - 500
      assert.isAtLeast(added, 500)
      assert.isBelow(added, 600)
    } finally {
      await sim.close()
    }
  })

  it("hang accepts and never answers; the client's deadline ends it", async () => {
    const sim = await startSimulator({ speed: 500, faults: { hangRate: 1 } })
    try {
      const outcome = await postChat(sim.url, body, {}, 200).then(
        () => "answered",
        (e: Error) => e.name,
      )
      assert.strictEqual(outcome, "TimeoutError")
      assert.strictEqual(sim.stats().requests.finished, 0)
    } finally {
      await sim.close()
    }
  })

  it("stall stops a stream mid-way and keeps the connection open", async () => {
    const sim = await startSimulator({ speed: 500, faults: { stallRate: 1, stallAfterTokens: 3 } })
    try {
      const res = await postChat(sim.url, { ...body, stream: true }, {}, 400)
      const reader = res.body!.getReader()
      let text = ""
      const outcome = await (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read()
            if (done) return "ended"
            text += new TextDecoder().decode(value)
          }
        } catch (e) {
          return (e as Error).name
        }
      })()
      assert.strictEqual(outcome, "TimeoutError")
      assert.notInclude(text, "[DONE]")
      const contentChunks = text.split("\n\n").filter((e) => e.includes('"content":"') && !e.includes('"role"'))
      assert.isAtLeast(contentChunks.length, 1)
      assert.isAtMost(contentChunks.length, 3)
    } finally {
      await sim.close()
    }
  })

  it("reset drops the connection; malformed answers 200 with a body that is not JSON", async () => {
    const sim = await startSimulator({ speed: 500, faults: { resetRate: 1 } })
    try {
      const reset = await postChat(sim.url, body).then(
        () => "answered",
        (e: Error) => e.name,
      )
      assert.strictEqual(reset, "TypeError") // fetch failed: socket hang up
      sim.setFaults({ malformedRate: 1 })
      const res = await postChat(sim.url, body)
      assert.strictEqual(res.status, 200)
      const parsed = await res.json().then(
        () => "json",
        () => "broken",
      )
      assert.strictEqual(parsed, "broken")
      const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0, timeout: 5000 })
      const sdk = await client.chat.completions
        .create({ model: sim.model, messages: [{ role: "user", content: "hi" }] })
        .then(
          () => "ok",
          () => "error",
        )
      assert.strictEqual(sdk, "error")
    } finally {
      await sim.close()
    }
  })

  it("slow start answers 503 until ready; a dead engine answers 503 on /health and 500 on requests", async () => {
    const sim = await startSimulator({ speed: 100, faults: { slowStartMs: 5000 } })
    try {
      assert.strictEqual(await health(sim.url), 503)
      assert.strictEqual((await postChat(sim.url, body)).status, 503)
      await eventually(async () => (await health(sim.url)) === 200)
      assert.strictEqual((await postChat(sim.url, body)).status, 200)
      sim.updateFaults({ dead: true })
      assert.strictEqual(await health(sim.url), 503)
      assert.strictEqual((await postChat(sim.url, body)).status, 500)
    } finally {
      await sim.close()
    }
  })

  it("crash drops every connection and refuses new ones; a restart comes back through a slow start", async () => {
    const sim = await startSimulator({ speed: 100 })
    try {
      const inflight = postChat(sim.url, { ...body, max_tokens: 2000, ignore_eos: true }).then(
        () => "answered",
        () => "dropped",
      )
      await eventually(() => sim.stats().runningSeqs === 1)
      await sim.crash({ restartAfterMs: 3000, slowStartMs: 3000 })
      assert.strictEqual(await inflight, "dropped")
      assert.strictEqual(await health(sim.url), "down")
      await eventually(async () => (await health(sim.url)) === 503)
      await eventually(async () => (await health(sim.url)) === 200)
      // The admin endpoint crashes it too.
      const res = await fetch(`${sim.url}/sim/crash`, { method: "POST", signal: AbortSignal.timeout(2000) })
      assert.strictEqual(res.status, 200)
      await eventually(async () => (await health(sim.url)) === "down")
    } finally {
      await sim.close()
    }
  })
})

describe("embedding API", () => {
  it.live("serveSimulator serves within a scope and closes when it ends", () =>
    Effect.gen(function* () {
      const url = yield* Effect.scoped(
        Effect.gen(function* () {
          const sim = yield* serveSimulator({ speed: 500, model: "custom-model" })
          const models = yield* Effect.promise(() => getJson(`${sim.url}/v1/models`))
          assert.strictEqual((models.data as Array<{ id: string }>)[0]!.id, "custom-model")
          return sim.url
        }),
      )
      const after = yield* Effect.promise(() => health(url))
      assert.strictEqual(after, "down")
    }),
  )
})
