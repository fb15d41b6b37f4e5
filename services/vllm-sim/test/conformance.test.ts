import { assert, describe, it } from "@effect/vitest"
import OpenAI from "openai"
import { afterAll, beforeAll } from "vitest"
import { type RunningSimulator, startSimulator } from "../src/index.ts"
import { getJson, mcQuestion, postChat, readSse, userTurn } from "./helpers.ts"

let sim: RunningSimulator
let flat: RunningSimulator
let client: OpenAI

beforeAll(async () => {
  sim = await startSimulator({ speed: 500, seed: 1 })
  flat = await startSimulator({ speed: 500, errorFormat: "flat" })
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0, timeout: 10_000 })
})
afterAll(async () => {
  await sim.close()
  await flat.close()
})

const prefix = "<SUMMARY>I will look at the umbrella.</SUMMARY>\n\n"

describe("chat completions through the openai SDK", () => {
  it("answers a whole LLaVA-CoT response with usage counting the image and n samples", async () => {
    const r = await client.chat.completions.create({
      model: sim.model,
      messages: [userTurn(mcQuestion)],
      n: 3,
      seed: 7,
      temperature: 0.6,
      top_p: 0.9,
      max_tokens: 1024,
    })
    assert.strictEqual(r.object, "chat.completion")
    assert.strictEqual(r.choices.length, 3)
    for (const c of r.choices) {
      assert.match(c.message.content ?? "", /^<SUMMARY>[\s\S]+<\/SUMMARY>\n\n<CAPTION>[\s\S]+<\/CONCLUSION>$/)
      assert.strictEqual(c.finish_reason, "stop")
      assert.isNull((c as unknown as { stop_reason: unknown }).stop_reason)
    }
    const usage = r.usage!
    assert.isAbove(usage.prompt_tokens, sim.profile.maxTiles * sim.profile.tokensPerTile)
    assert.strictEqual(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens)
    const single = await client.chat.completions.create({
      model: sim.model,
      messages: [userTurn(mcQuestion)],
      seed: 7,
      max_tokens: 1024,
    })
    // The same seed reproduces sample 0, and completion tokens sum over the n samples.
    assert.strictEqual(single.choices[0]!.message.content, r.choices[0]!.message.content)
    assert.isAbove(usage.completion_tokens, single.usage!.completion_tokens * 2)
  })

  it("continues a partial assistant message and stops at the stage's closing tag", async () => {
    const body = {
      model: sim.model,
      messages: [userTurn(mcQuestion), { role: "assistant" as const, content: prefix }],
      n: 4,
      seed: 3,
      max_tokens: 512,
      stop: ["</CAPTION>"],
      include_stop_str_in_output: true,
      continue_final_message: true,
      add_generation_prompt: false,
    }
    const r = await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming)
    const texts = r.choices.map((c) => c.message.content ?? "")
    for (const [i, text] of texts.entries()) {
      assert.match(text, /^<CAPTION>[\s\S]+<\/CAPTION>$/)
      assert.strictEqual((r.choices[i] as unknown as { stop_reason: unknown }).stop_reason, "</CAPTION>")
    }
    assert.isAbove(new Set(texts).size, 1, "samples differ")
    const without = await client.chat.completions.create({
      ...body,
      include_stop_str_in_output: false,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming)
    assert.strictEqual(without.choices[0]!.message.content, texts[0]!.replace("</CAPTION>", ""))
  })

  it("sentence-level stops end at the first period", async () => {
    const r = await client.chat.completions.create({
      model: sim.model,
      messages: [userTurn(mcQuestion), { role: "assistant", content: `${prefix}<CAPTION>The image shows a street.` }],
      seed: 1,
      max_tokens: 256,
      stop: [".", "</CAPTION>"],
      continue_final_message: true,
      add_generation_prompt: false,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming)
    const c = r.choices[0]!
    assert.notInclude(c.message.content ?? "", ".")
    assert.include([".", "</CAPTION>"], (c as unknown as { stop_reason: string }).stop_reason)
  })

  it("max_tokens cuts with finish_reason length", async () => {
    const r = await client.chat.completions.create({
      model: sim.model,
      messages: [userTurn(mcQuestion)],
      max_tokens: 5,
    })
    assert.strictEqual(r.choices[0]!.finish_reason, "length")
    assert.strictEqual(r.usage!.completion_tokens, 5)
  })

  it("streams SSE chunks that add up to the text, then a usage chunk and [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: sim.model,
      messages: [userTurn(mcQuestion)],
      n: 2,
      seed: 9,
      max_tokens: 1024,
      stream: true,
      stream_options: { include_usage: true },
    })
    const texts = ["", ""]
    const finish: Array<string | null> = [null, null]
    let usage: OpenAI.CompletionUsage | undefined
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        texts[c.index] += c.delta.content ?? ""
        if (c.finish_reason !== null) finish[c.index] = c.finish_reason
      }
      if (chunk.usage) usage = chunk.usage
    }
    const whole = await client.chat.completions.create({
      model: sim.model,
      messages: [userTurn(mcQuestion)],
      n: 2,
      seed: 9,
      max_tokens: 1024,
    })
    assert.deepStrictEqual(
      texts,
      whole.choices.map((c) => c.message.content),
    )
    assert.deepStrictEqual(finish, ["stop", "stop"])
    assert.strictEqual(usage?.completion_tokens, whole.usage?.completion_tokens)
    const raw = await readSse(
      await postChat(sim.url, { messages: [userTurn(mcQuestion)], max_tokens: 8, stream: true }),
    )
    assert.strictEqual(raw[raw.length - 1], "[DONE]")
  })

  it("judge calls answer in the verdict format, or exactly one guided choice with logprobs", async () => {
    const judgePrompt = [
      "Now you act as a judge, helping me determine which of the two texts I provide better describes the image.",
      `Question: ${mcQuestion}`,
      "Response 1: <CAPTION>The image shows a red umbrella on the left.</CAPTION>",
      "Repsonse 2: <CAPTION>The image shows a street with people.</CAPTION>",
      'Please strictly follow the format: "Since [reason], I choose response [1/2]."',
    ].join("\n")
    const verdict = await client.chat.completions.create({
      model: sim.model,
      messages: [userTurn(judgePrompt)],
      n: 5,
      seed: 2,
    })
    for (const c of verdict.choices) assert.match(c.message.content ?? "", /^Since .+, I choose response [12]\.$/)
    const guided = await client.chat.completions.create({
      model: sim.model,
      messages: [userTurn(judgePrompt)],
      guided_choice: ["1", "2"],
      logprobs: true,
      top_logprobs: 2,
      max_tokens: 2,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming)
    const c = guided.choices[0]!
    assert.include(["1", "2"], c.message.content)
    const first = c.logprobs!.content![0]!
    assert.strictEqual(first.token, c.message.content)
    assert.isAtMost(first.logprob, 0)
    assert.strictEqual(first.top_logprobs.length, 2)
    const check = await client.chat.completions.create({
      model: sim.model,
      messages: [
        {
          role: "user",
          content:
            "Now you act as a judge, helping me determine whether the reasoning process in the given text is correct.\nGiven Information: a red umbrella.\nReasoning Process: The umbrella is red, so the evidence points to option A (Red).",
        },
      ],
    })
    assert.include(["correct", "incorrect"], check.choices[0]!.message.content)
  })

  it("text-only questions get an answer whose caption says there is no image", async () => {
    const r = await client.chat.completions.create({
      model: sim.model,
      messages: [userTurn(mcQuestion, false)],
      seed: 4,
    })
    assert.match(r.choices[0]!.message.content ?? "", /<CAPTION>(No image|There is no picture)/)
  })
})

describe("errors as vLLM sends them", () => {
  const expectError = async (s: RunningSimulator, body: unknown, status: number, pattern: RegExp) => {
    const res = await postChat(s.url, body)
    assert.strictEqual(res.status, status)
    const json = (await res.json()) as Record<string, unknown>
    const info = (s === flat ? json : json.error) as Record<string, unknown>
    if (s === flat) assert.strictEqual(json.object, "error")
    assert.match(String(info.message), pattern)
    assert.strictEqual(info.code, status)
    return info
  }

  it("400 for context length, a second image, bad base64; 404 for an unknown model", async () => {
    const info = await expectError(
      sim,
      { messages: [userTurn(mcQuestion)], max_tokens: 9000 },
      400,
      /maximum context length is 8192 tokens/,
    )
    assert.strictEqual(info.type, "BadRequestError")
    const two = userTurn(mcQuestion)
    await expectError(
      sim,
      { messages: [{ ...two, content: [two.content[0]!, ...two.content] }] },
      400,
      /At most 1 image/,
    )
    await expectError(
      sim,
      {
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,@@@" } }] }],
      },
      400,
      /base64/,
    )
    const nf = await expectError(sim, { model: "nope", messages: [userTurn("hi")] }, 404, /does not exist/)
    assert.strictEqual(nf.type, "NotFoundError")
    await expectError(flat, { model: "nope", messages: [userTurn("hi")] }, 404, /does not exist/)
    await expectError(flat, { messages: [userTurn(mcQuestion)], max_tokens: 9000 }, 400, /maximum context length/)
    await expectError(sim, { messages: [userTurn("hi")], priority: 5 }, 400, /Priority scheduling is not enabled/)
    await expectError(
      sim,
      { messages: [userTurn("hi")], continue_final_message: true, add_generation_prompt: true },
      400,
      /Cannot set both/,
    )
  })

  it("the openai SDK surfaces them as typed errors", async () => {
    try {
      await client.chat.completions.create({ model: "other", messages: [{ role: "user", content: "hi" }] })
      assert.fail("expected an error")
    } catch (e) {
      assert.instanceOf(e, OpenAI.NotFoundError)
    }
  })
})

describe("operational endpoints", () => {
  it("health, ping, models, version, metrics, X-Request-Id", async () => {
    assert.strictEqual((await fetch(`${sim.url}/health`, { signal: AbortSignal.timeout(5000) })).status, 200)
    assert.strictEqual((await fetch(`${sim.url}/ping`, { signal: AbortSignal.timeout(5000) })).status, 200)
    const models = await client.models.list()
    assert.strictEqual(models.data[0]!.id, "Xkev/Llama-3.2V-11B-cot")
    assert.strictEqual((await getJson(`${sim.url}/version`)).version, "0.10.2")
    const res = await postChat(sim.url, { messages: [userTurn("hi")], max_tokens: 3 }, { "X-Request-Id": "req-42" })
    assert.strictEqual(res.headers.get("x-request-id"), "req-42")
    assert.strictEqual(((await res.json()) as { id: string }).id, "chatcmpl-req-42")
    const metrics = await (await fetch(`${sim.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text()
    for (const name of [
      "vllm:num_requests_running",
      "vllm:num_requests_waiting",
      "vllm:gpu_cache_usage_perc",
      "vllm:kv_cache_usage_perc",
      "vllm:gpu_prefix_cache_hit_rate",
      "vllm:prefix_cache_queries_total",
      "vllm:time_to_first_token_seconds_bucket",
      "vllm:e2e_request_latency_seconds_count",
      "vllm:request_success_total",
    ])
      assert.include(metrics, name)
  })
})
