// Conformance with vLLM 0.10.2 (V0 engine, mllama), over plain HTTP against the `vllm-sim` binary on its default
// profile and behaviour. Each test names the vLLM source it follows (vllm-project/vllm; where the stored copy is not
// the v0.10.2 tag, the commit read is named).
import { type ChildProcess, spawn } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import { eventually, mcQuestion, pngOfSize } from "./helpers.ts"

let server: ChildProcess
let url = ""
let stderr = ""

beforeAll(async () => {
  server = spawn(process.execPath, ["bin/vllm-sim.js", "--port", "0", "--speed", "20", "--seed", "1"], {
    cwd: `${import.meta.dirname}/..`,
    stdio: ["ignore", "pipe", "pipe"],
  })
  server.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("vllm-sim did not start within 20 s")), 20_000)
    let out = ""
    server.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match !== null) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    server.once("exit", (code) => reject(new Error(`vllm-sim exited with ${code}: ${stderr}`)))
  })
}, 30_000)
afterAll(() => {
  server.kill("SIGTERM")
})

const turn = (text: string, image?: string) => ({
  role: "user",
  content: [...(image === undefined ? [] : [{ type: "image_url", image_url: { url: image } }]), { type: "text", text }],
})

interface Answer {
  readonly choices: ReadonlyArray<{
    readonly index: number
    readonly message: { readonly content: string }
    readonly finish_reason: string
    readonly stop_reason: string | null
  }>
  readonly usage: { readonly prompt_tokens: number; readonly completion_tokens: number }
  readonly error?: { readonly message: string; readonly type: string }
}

const post = async (body: Record<string, unknown>, signal = AbortSignal.timeout(30_000)) => {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  })
  return { status: res.status, headers: res.headers, json: (await res.json()) as Answer }
}

const judgePrompt = [
  "Now you act as a judge, helping me determine which of the two texts I provide better describes the image.",
  `Question: ${mcQuestion}`,
  "Response 1: <CAPTION>The image shows a red umbrella on the left.</CAPTION>",
  "Response 2: <CAPTION>The image shows a street with people.</CAPTION>",
].join("\n")

const square = (side: number) => pngOfSize(side, side)

describe("vLLM 0.10.2 conformance (vllm-sim binary, default profile)", () => {
  // vllm/entrypoints/openai/protocol.py (commit 0052bed3, a 0.10.x tree): ChatCompletionRequest has guided_choice and
  // no structured_outputs; OpenAIBaseModel is extra="allow" and logs the fields it ignored.
  it("constrains with guided_choice; structured_outputs gets 200, unconstrained text, and a log line", async () => {
    const guided = await post({ messages: [turn(judgePrompt)], max_tokens: 4, guided_choice: ["1", "2"] })
    assert.strictEqual(guided.status, 200)
    assert.include(["1", "2"], guided.json.choices[0]!.message.content)
    const ignored = await post({
      messages: [turn(judgePrompt)],
      max_tokens: 64,
      structured_outputs: { choice: ["1", "2"] },
    })
    assert.strictEqual(ignored.status, 200)
    assert.notInclude(["1", "2"], ignored.json.choices[0]!.message.content)
    assert.match(ignored.json.choices[0]!.message.content, /^Since /)
    await eventually(() =>
      stderr.includes("The following fields were present in the request but ignored: {'structured_outputs'}"),
    )
    const stats = (await (await fetch(`${url}/sim/stats`)).json()) as { ignoredFields: Record<string, number> }
    assert.strictEqual(stats.ignoredFields.structured_outputs, 1)
  })

  // vllm/sampling_params.py _verify_greedy_sampling: temperature < _SAMPLING_EPS with n > 1 raises
  // "n must be 1 when using greedy sampling, got {n}."; serving_chat.py answers the ValueError with 400.
  it("refuses n=4 at temperature 0 as vLLM does", async () => {
    const refused = await post({ messages: [turn(mcQuestion)], n: 4, temperature: 0, max_tokens: 8 })
    assert.strictEqual(refused.status, 400)
    assert.strictEqual(refused.json.error!.message, "n must be 1 when using greedy sampling, got 4.")
    assert.strictEqual(refused.json.error!.type, "BadRequestError")
    const single = await post({ messages: [turn(mcQuestion)], n: 1, temperature: 0, max_tokens: 8 })
    assert.strictEqual(single.status, 200)
  })

  // vllm/sequence.py ParallelSampleSequenceGroup.add_request: n > 1 is n child requests, each n = 1; mllama on V0 has
  // no prefix caching (REFERENCE.md section 2), so each child runs its own prefill and vision encoder.
  it("an n=4 call's time to first token, with an image, is at least 3x an n=1 call's", async () => {
    const ttft = async (n: number) => {
      const { status, headers } = await post({
        messages: [turn(mcQuestion, square(1120))],
        n,
        seed: 3,
        max_tokens: 4,
      })
      assert.strictEqual(status, 200)
      // The engine's own virtual-time record: exact whatever the machine's load.
      return Number(headers.get("x-vllm-sim-ttft-ms"))
    }
    const one = await ttft(1)
    const four = await ttft(4)
    assert.isAtLeast(four, 3 * one, `n=4 ${four} ms against n=1 ${one} ms`)
  })

  // vllm/sequence.py ParallelSampleSequenceGroup.add_request: child i is seeded seed + i and the outputs are assembled
  // in index order.
  it("child i of an n>1 request is seeded seed+i, and the choices come back in index order", async () => {
    const body = { messages: [turn(mcQuestion)], max_tokens: 48, temperature: 0.8 }
    const pair = await post({ ...body, n: 2, seed: 7 })
    const next = await post({ ...body, n: 1, seed: 8 })
    assert.deepStrictEqual(
      pair.json.choices.map((c) => c.index),
      [0, 1],
    )
    assert.strictEqual(pair.json.choices[1]!.message.content, next.json.choices[0]!.message.content)
  })

  // vllm/engine/metrics.py (V0 Prometheus logger): num_requests_running counts sequence groups, and each child of
  // ParallelSampleSequenceGroup is one.
  it("/metrics shows 4 running for one n=4 request in flight", async () => {
    const controller = new AbortController()
    const pending = post(
      { messages: [turn(mcQuestion, square(512))], n: 4, max_tokens: 4000, ignore_eos: true, temperature: 1 },
      controller.signal,
    ).catch(() => "aborted")
    const running = async () => {
      const text = await (await fetch(`${url}/metrics`)).text()
      return Number(/^vllm:num_requests_running\{[^}]*\} (\S+)$/m.exec(text)?.[1] ?? -1)
    }
    await eventually(async () => (await running()) === 4, 10_000)
    controller.abort()
    assert.strictEqual(await pending, "aborted")
    await eventually(async () => (await running()) === 0, 10_000)
  })

  // transformers models/mllama/image_processing_mllama.py get_optimal_tiled_canvas (commit 0350540d), which vLLM
  // 0.10.2's models/mllama.py uses: 1-4 tiles of 560 px by the image's size, (560/14)^2 + 1 = 1601 tokens a tile;
  // V0's usage counts the encoder's tokens in prompt_tokens.
  it("a 512x512 image costs one tile's tokens and a 1120x1120 one four", async () => {
    const promptTokens = async (image?: string) =>
      (await post({ messages: [turn(mcQuestion, image)], max_tokens: 1 })).json.usage.prompt_tokens
    const text = await promptTokens()
    assert.strictEqual((await promptTokens(square(512))) - text, 1601)
    assert.strictEqual((await promptTokens(square(1120))) - text, 4 * 1601)
    // A wide image takes a wide canvas: 1120x560 is two tiles.
    assert.strictEqual((await promptTokens(pngOfSize(1120, 560))) - text, 2 * 1601)
  })

  // vllm/engine/output_processor/stop_checker.py (commit 4c79cbef) StopChecker._check_stop_strings: the sequence stops
  // at the first stop string, cut from the text unless include_stop_str_in_output; stop_reason names it.
  it("stops at a stop string and cuts it unless include_stop_str_in_output", async () => {
    const body = {
      messages: [turn(mcQuestion), { role: "assistant", content: "<SUMMARY>I will look.</SUMMARY>\n\n" }],
      continue_final_message: true,
      add_generation_prompt: false,
      stop: ["</CAPTION>"],
      seed: 5,
      max_tokens: 512,
    }
    const cut = await post(body)
    const kept = await post({ ...body, include_stop_str_in_output: true })
    const [c, k] = [cut.json.choices[0]!, kept.json.choices[0]!]
    assert.strictEqual(c.finish_reason, "stop")
    assert.strictEqual(c.stop_reason, "</CAPTION>")
    assert.notInclude(c.message.content, "</CAPTION>")
    assert.strictEqual(k.message.content, `${c.message.content}</CAPTION>`)
  })

  // vllm/entrypoints/openai/serving_chat.py chat_completion_stream_generator: each child's deltas stream with its own
  // index as the engine produces them, each closed by its finish_reason.
  it("streams an n=2 request's children under their own indexes", async () => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [turn(mcQuestion)], n: 2, max_tokens: 16, stream: true }),
      signal: AbortSignal.timeout(30_000),
    })
    const events = (await res.text())
      .split("\n\n")
      .filter((e) => e.startsWith("data: {"))
      .map((e) => JSON.parse(e.slice(6)) as { choices: Array<{ index: number; finish_reason: string | null }> })
    const finished = events.flatMap((e) => e.choices.filter((c) => c.finish_reason !== null).map((c) => c.index))
    assert.deepStrictEqual(finished.sort(), [0, 1])
  })
})
