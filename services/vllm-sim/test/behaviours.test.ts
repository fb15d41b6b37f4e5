import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import { type BehaviourName, type RunningSimulator, type SimulatorOptions, startSimulator } from "../src/index.ts"
import { mcQuestion, postChat, readSse, userTurn } from "./helpers.ts"

const started: Array<RunningSimulator> = []
const sims = {} as Record<BehaviourName, RunningSimulator>

const start = async (options: SimulatorOptions) => {
  const sim = await startSimulator({ speed: 500, seed: 1, ...options })
  started.push(sim)
  return sim
}

beforeAll(async () => {
  for (const behaviour of ["vllm-0.10", "vllm-0.11", "vllm-0.12", "sglang", "minimal"] as const)
    sims[behaviour] = await start({ behaviour })
})
afterAll(async () => {
  await Promise.all(started.map((sim) => sim.close()))
})

const judgePrompt = [
  "Now you act as a judge, helping me determine which of the two texts I provide better describes the image.",
  `Question: ${mcQuestion}`,
  "Response 1: <CAPTION>The image shows a red umbrella on the left.</CAPTION>",
  "Response 2: <CAPTION>The image shows a street with people.</CAPTION>",
].join("\n")

const summary = "<SUMMARY>I will look at the umbrella.</SUMMARY>\n\n"

interface Choice {
  readonly message: { readonly content: string }
  readonly finish_reason: string
  readonly logprobs: unknown
  readonly stop_reason?: unknown
  readonly matched_stop?: unknown
}
interface Completion {
  readonly choices: ReadonlyArray<Choice>
  readonly usage?: { readonly completion_tokens: number }
}

const chat = async (sim: RunningSimulator, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
  const res = await postChat(sim.url, { model: sim.model, ...body }, headers)
  return { status: res.status, json: (await res.json()) as Completion & Record<string, unknown> }
}

const get = (sim: RunningSimulator, path: string, headers: Record<string, string> = {}) =>
  fetch(`${sim.url}${path}`, { headers, signal: AbortSignal.timeout(5000) })

const caption = {
  messages: [userTurn(mcQuestion), { role: "assistant", content: summary }],
  n: 3,
  seed: 5,
  max_tokens: 512,
  stop: ["</CAPTION>"],
  include_stop_str_in_output: true,
  continue_final_message: true,
  add_generation_prompt: false,
}

describe("behaviour profiles", () => {
  // vllm/entrypoints/openai/protocol.py of 0.10.x: guided_choice, no structured_outputs (PR #22772 came in 0.11.0).
  it("vllm-0.10 constrains with guided_choice and ignores structured_outputs; vllm-0.11 takes both", async () => {
    const sim = sims["vllm-0.10"]
    const guided = await chat(sim, { messages: [userTurn(judgePrompt)], max_tokens: 4, guided_choice: ["A", "B"] })
    assert.include(["A", "B"], guided.json.choices[0]!.message.content)
    const ignored = await chat(sim, { messages: [userTurn(judgePrompt)], structured_outputs: { choice: ["A", "B"] } })
    assert.strictEqual(ignored.status, 200)
    assert.match(ignored.json.choices[0]!.message.content, /^Since .+, I choose response [12]\.$/)
    for (const field of [{ guided_choice: ["A", "B"] }, { structured_outputs: { choice: ["A", "B"] } }]) {
      const { json } = await chat(sims["vllm-0.11"], { messages: [userTurn(judgePrompt)], max_tokens: 4, ...field })
      assert.include(["A", "B"], json.choices[0]!.message.content, JSON.stringify(field))
    }
  })

  it("vllm-0.12 honours structured_outputs, silently ignores guided_choice, and exposes V1 metric names", async () => {
    const sim = sims["vllm-0.12"]
    const constrained = await chat(sim, {
      messages: [userTurn(judgePrompt)],
      structured_outputs: { choice: ["A", "B"] },
    })
    assert.include(["A", "B"], constrained.json.choices[0]!.message.content)
    const ignored = await chat(sim, { messages: [userTurn(judgePrompt)], guided_choice: ["A", "B"] })
    assert.strictEqual(ignored.status, 200)
    assert.match(ignored.json.choices[0]!.message.content, /^Since .+, I choose response [12]\.$/)
    assert.strictEqual(((await (await get(sim, "/version")).json()) as { version: string }).version, "0.12.0")
    const metrics = await (await get(sim, "/metrics")).text()
    for (const name of ["vllm:kv_cache_usage_perc", "vllm:prefix_cache_hits_total", "vllm:inter_token_latency_seconds"])
      assert.include(metrics, name)
    for (const name of ["vllm:gpu_cache_usage_perc", "vllm:num_requests_swapped", "vllm:gpu_prefix_cache_hit_rate"])
      assert.notInclude(metrics, name)
    assert.include(metrics, 'vllm:num_requests_running{model_name="Xkev/Llama-3.2V-11B-cot",engine="0"}')
  })

  it("vllm-0.12 reuses cached prompt blocks (prefix caching), which vllm-0.10 on the same GPU does not", async () => {
    const body = {
      messages: [userTurn(`${mcQuestion}\n${"Look closely at every detail. ".repeat(20)}`)],
      max_tokens: 4,
    }
    for (const behaviour of ["vllm-0.12", "vllm-0.10"] as const) {
      await chat(sims[behaviour], body)
      await chat(sims[behaviour], body)
    }
    assert.isAbove(sims["vllm-0.12"].stats().cachedPrefillTokens, 0)
    assert.strictEqual(sims["vllm-0.10"].stats().cachedPrefillTokens, 0)
  })

  it("sglang trims the stop string unless no_stop_trim, reports matched_stop, and answers flat errors", async () => {
    const sim = sims.sglang
    const trimmed = await chat(sim, caption)
    assert.strictEqual(trimmed.json.choices.length, 3)
    for (const choice of trimmed.json.choices) {
      assert.match(choice.message.content, /^<CAPTION>[\s\S]+\.$/)
      assert.strictEqual(choice.matched_stop, "</CAPTION>")
      assert.isUndefined(choice.stop_reason)
    }
    const kept = await chat(sim, { ...caption, no_stop_trim: true })
    for (const choice of kept.json.choices) assert.match(choice.message.content, /<\/CAPTION>$/)
    const bad = await chat(sim, { messages: [userTurn(mcQuestion)], max_tokens: 9000 })
    assert.strictEqual(bad.status, 400)
    assert.strictEqual(bad.json.object, "error")
    assert.match(String(bad.json.message), /maximum context length/)
    assert.strictEqual((await get(sim, "/version")).status, 404)
    const models = (await (await get(sim, "/v1/models")).json()) as { data: Array<{ owned_by: string }> }
    assert.strictEqual(models.data[0]!.owned_by, "sglang")
    assert.include(await (await get(sim, "/metrics")).text(), "sglang:num_queue_reqs")
  })

  it("sglang samples afresh whatever the seed (it needs --enable-deterministic-inference for that)", async () => {
    const body = { messages: [userTurn(mcQuestion)], seed: 11, max_tokens: 1024 }
    const texts = new Set<string>()
    for (let i = 0; i < 4; i++) texts.add((await chat(sims.sglang, body)).json.choices[0]!.message.content)
    assert.isAbove(texts.size, 1)
    const vllm = new Set<string>()
    for (let i = 0; i < 4; i++) vllm.add((await chat(sims["vllm-0.12"], body)).json.choices[0]!.message.content)
    assert.strictEqual(vllm.size, 1)
  })

  it("minimal answers one choice, ignores stop and continuation, and has no usage, logprobs, /health or /metrics", async () => {
    const sim = sims.minimal
    const { status, json } = await chat(sim, { ...caption, logprobs: true, top_logprobs: 2 })
    assert.strictEqual(status, 200)
    assert.strictEqual(json.choices.length, 1)
    const choice = json.choices[0]!
    // The partial answer was a finished turn: the model starts again and writes all four stages.
    assert.match(choice.message.content, /^<SUMMARY>[\s\S]+<\/CAPTION>[\s\S]+<\/CONCLUSION>$/)
    assert.isNull(choice.logprobs)
    assert.isUndefined(choice.stop_reason)
    assert.isUndefined(json.usage)
    assert.strictEqual((await get(sim, "/health")).status, 404)
    assert.strictEqual((await get(sim, "/metrics")).status, 404)
    const models = (await (await get(sim, "/v1/models")).json()) as { data: Array<Record<string, unknown>> }
    assert.strictEqual(models.data[0]!.id, sim.model)
    assert.notProperty(models.data[0]!, "max_model_len")
    const events = await readSse(
      await postChat(sim.url, {
        messages: [userTurn(mcQuestion)],
        max_tokens: 16,
        stream: true,
        stream_options: { include_usage: true },
      }),
    )
    assert.strictEqual(events.at(-1), "[DONE]")
    for (const event of events.slice(0, -1)) assert.notProperty(JSON.parse(event), "usage")
  })

  it("--api-key guards each server kind's routes as it does, with its own 401 body", async () => {
    const key = { Authorization: "Bearer s3cret" }
    const vllm = await start({ behaviour: "vllm-0.10", apiKey: "s3cret" })
    const sglang = await start({ behaviour: "sglang", apiKey: "s3cret" })
    const minimal = await start({ behaviour: "minimal", apiKey: "s3cret" })
    const plain = { messages: [userTurn("hi")], max_tokens: 2 }
    for (const sim of [vllm, sglang, minimal]) {
      assert.strictEqual((await chat(sim, plain)).status, 401, sim.behaviour.name)
      assert.strictEqual((await chat(sim, plain, { Authorization: "Bearer wrong" })).status, 401, sim.behaviour.name)
      assert.strictEqual((await chat(sim, plain, key)).status, 200, sim.behaviour.name)
      assert.strictEqual((await get(sim, "/v1/models")).status, 401, sim.behaviour.name)
    }
    assert.deepStrictEqual((await chat(vllm, plain)).json, { error: "Unauthorized" } as never)
    assert.strictEqual((await get(vllm, "/health")).status, 200)
    assert.strictEqual((await get(vllm, "/version")).status, 200)
    assert.strictEqual((await get(sglang, "/health")).status, 200)
    assert.strictEqual((await get(sglang, "/get_model_info")).status, 401)
    const refused = (await chat(minimal, plain)).json as unknown as { error: { code: string } }
    assert.strictEqual(refused.error.code, "invalid_api_key")
  })

  it("an injected error can come back as a proxy's plain-text line or HTML page", async () => {
    const sim = await start({ faults: { errorRate: 1, errorStatus: 502, errorPage: "html" } })
    const res = await postChat(sim.url, { messages: [userTurn("hi")] })
    assert.strictEqual(res.status, 502)
    assert.include(res.headers.get("content-type") ?? "", "text/html")
    assert.include(await res.text(), "<title>502 Bad Gateway</title>")
    sim.setFaults({ errorRate: 1, errorStatus: 503, errorPage: "text" })
    const text = await postChat(sim.url, { messages: [userTurn("hi")] })
    assert.strictEqual(await text.text(), "Service Unavailable\n")
  })
})
