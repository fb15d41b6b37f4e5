// Benchmark: measured latency and throughput of the simulator against its profile's formulas, and how many
// simulated servers one core can host at full load. Run from the repo root: node services/vllm-sim/bench/profile.ts
import { writeFileSync } from "node:fs"
import { predictDecodeStepMs, predictPrefillMs, type RunningSimulator, startSimulator } from "../src/index.ts"

const profileName = process.argv[2] ?? "llama-3.2-11b-vision-h100"
const speed = 10
const outputTokens = 256
const png = `data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).toString("base64")}`
const body = (i: number) => ({
  messages: [
    {
      role: "user",
      content: [
        { type: "image_url", image_url: { url: png } },
        { type: "text", text: `Question ${i}: what color is the umbrella?\nA. Red\nB. Blue\nC. Green\nD. White` },
      ],
    },
  ],
  max_tokens: outputTokens,
  ignore_eos: true,
  seed: i,
})
const post = (sim: RunningSimulator, i: number) =>
  fetch(`${sim.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": `bench-${i}` },
    body: JSON.stringify(body(i)),
    signal: AbortSignal.timeout(120_000),
  }).then((r) => r.json())

const lines: Array<string> = []
const engineRows: Array<string> = []
const out = (s: string) => {
  console.log(s)
  lines.push(s)
}

/** Prediction for B identical requests arriving together at an idle server: one prefill step, then B-wide decode. */
const predict = (sim: RunningSimulator, prompt: number, batch: number) => {
  const p = sim.profile
  let ms = p.prefillBaseMs + batch * (predictPrefillMs(p, prompt, 1) - p.prefillBaseMs)
  for (let k = 1; k < outputTokens; k++) ms += predictDecodeStepMs(p, batch, batch * (prompt + k))
  return ms
}

out(
  `vllm-sim profile benchmark: ${profileName}, speed ${speed}x, ${outputTokens} output tokens per request (ignore_eos)`,
)
out(`node ${process.version}, ${new Date().toISOString()}`)
out("")
// Warm-up (tokenizer tables, JIT) so the first measured row does not pay for it.
{
  const warm = await startSimulator({ profile: profileName, speed: 1000 })
  await Promise.all([0, 1, 2].map((i) => post(warm, i)))
  await warm.close()
}
out("batch | measured e2e (virtual s) | predicted e2e (s) | ratio | measured tok/s | predicted tok/s | ratio")
for (const batch of [1, 8, 16]) {
  const sim = await startSimulator({ profile: profileName, speed })
  const start = performance.now()
  await Promise.all(Array.from({ length: batch }, (_, i) => post(sim, i)))
  const measuredMs = (performance.now() - start) * speed
  const prompt = sim.requestRecord("bench-0")!.promptTokens
  const predictedMs = predict(sim, prompt, batch)
  const tok = (ms: number) => (batch * outputTokens) / (ms / 1000)
  const engineMs =
    Math.max(
      ...Array.from({ length: batch }, (_, i) => {
        const rec = sim.requestRecord(`bench-${i}`)!
        return rec.arrivalMs + rec.e2eMs
      }),
    ) - Math.min(...Array.from({ length: batch }, (_, i) => sim.requestRecord(`bench-${i}`)!.arrivalMs))
  engineRows.push(
    `${String(batch).padStart(5)} | engine's own span ${(engineMs / 1000).toFixed(3)} s vs predicted ${(predictedMs / 1000).toFixed(3)} s (ratio ${(engineMs / predictedMs).toFixed(3)})`,
  )
  out(
    `${String(batch).padStart(5)} | ${(measuredMs / 1000).toFixed(3).padStart(24)} | ${(predictedMs / 1000).toFixed(3).padStart(17)} | ${(measuredMs / predictedMs).toFixed(3)} | ${tok(measuredMs).toFixed(0).padStart(14)} | ${tok(predictedMs).toFixed(0).padStart(15)} | ${(tok(measuredMs) / tok(predictedMs)).toFixed(3)}`,
  )
  await sim.close()
}
for (const row of engineRows) out(row)
out(
  "(measured = wall-clock time x speed: includes HTTP, content generation and timer overhead, which spreads arrivals;",
)
out(" engine span = first arrival to last completion in virtual time; ratio 1 = exactly the profile's formulas)")
out("")

// Servers per core: one server kept at full load (max_num_seqs requests in flight) at a high speed; the CPU time
// this process spends per simulated second of that server is what one real-time server would cost.
const loadSpeed = 40
const sim = await startSimulator({ profile: profileName, speed: loadSpeed })
const wallSeconds = 6
const cpuStart = process.cpuUsage()
const virtualStart = sim.stats().virtualSeconds
const deadline = performance.now() + wallSeconds * 1000
let completed = 0
const worker = async (w: number) => {
  let i = 0
  while (performance.now() < deadline) {
    await post(sim, w * 100_000 + i++)
    completed++
  }
}
await Promise.all(Array.from({ length: sim.profile.maxNumSeqs }, (_, w) => worker(w)))
const cpu = process.cpuUsage(cpuStart)
const cpuSeconds = (cpu.user + cpu.system) / 1e6
const stats = sim.stats()
const simulatedSeconds = stats.virtualSeconds - virtualStart
await sim.close()
const cpuPerSimSecond = cpuSeconds / simulatedSeconds
out(
  `full load: ${sim.profile.maxNumSeqs} concurrent requests, ${completed} completed in ${simulatedSeconds.toFixed(1)} simulated s`,
)
out(
  `  busy GPU fraction ${(stats.busyGpuSeconds / simulatedSeconds).toFixed(3)}, ${stats.generationTokens} tokens generated`,
)
out(
  `  CPU ${cpuSeconds.toFixed(2)} s (server + HTTP client in one process) => ${(cpuPerSimSecond * 1000).toFixed(1)} ms CPU per simulated second`,
)
out(
  `  => one core hosts about ${Math.floor(1 / cpuPerSimSecond)} real-time (speed 1) servers at full load, including their clients`,
)

writeFileSync(new URL("../../../bench/results/vllm-sim-profile.txt", import.meta.url), `${lines.join("\n")}\n`)
