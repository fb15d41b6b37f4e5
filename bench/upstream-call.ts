/**
 * One upstream call's CPU in the gateway's own client (issue #24): `OpenAiClient.chat` (the non-streamed path every
 * generation and verdict takes) from this checkout against a baseline checkout's libs/fleet, in this process, taking
 * turns in blocks of 10 calls.
 * - whole: a call answered in full (N=4, max_tokens 64, the 64×48 PNG inline, a stop string).
 * - aborted: a call interrupted ~3 ms in (the server is generating: the abort closes its connection, as Prefetch's
 *   discarded speculative calls do), then a whole call, which pays the new connection.
 * CPU: process.cpuUsage (user + system, all threads) around each block; the figure is per call pair for `aborted`.
 * Ratios: over all blocks, and the median (quartiles) of the blocks' new/base ratios. One vllm-sim process (--speed
 * 100) serves both clients; its CPU is not counted.
 *
 * Run: node --conditions=@stagebeam/source bench/upstream-call.ts
 *   UPSTREAM_CALL_BASELINE=<commit or dir> (default 7336960); UPSTREAM_CALL_CALLS=<calls per kind and client>
 *   (default 300); UPSTREAM_CALL_KINDS=whole,aborted.
 */

import * as Fleet from "@stagebeam/fleet"
import { Duration, Effect, Fiber, ManagedRuntime } from "effect"
import { baselineCheckout } from "./lib/baseline.ts"
import { benchImage } from "./lib/image.ts"
import { freePort, startSimulatorProcess } from "./lib/processes.ts"
import { fixed, machineLine, makeReport } from "./lib/report.ts"

const BASELINE = process.env.UPSTREAM_CALL_BASELINE ?? "7336960"
const CALLS = Number(process.env.UPSTREAM_CALL_CALLS ?? 300)
const KINDS = (process.env.UPSTREAM_CALL_KINDS ?? "whole,aborted").split(",")
const report = makeReport(process.env.UPSTREAM_CALL_RESULTS ?? "upstream-call")

const baseFleet = (await import(`${baselineCheckout(BASELINE, "upstream-call-baseline")}/libs/fleet/src/index.ts`)) as {
  readonly OpenAiClient: typeof Fleet.OpenAiClient
}
const sim = await startSimulatorProcess(await freePort(), 100)
const models = (await fetch(`${sim.url}/v1/models`).then((r) => r.json())) as { data: Array<{ id: string }> }
const target = {
  pool: "generator",
  server: sim.url,
  apiKey: undefined,
  model: models.data[0]!.id,
  kind: "vllm" as const,
}
const request: Fleet.ChatRequest = {
  n: 4,
  max_tokens: 64,
  temperature: 1,
  stop: ["</SUMMARY>"],
  include_stop_str_in_output: true,
  messages: [
    {
      role: "user",
      content: [
        { type: "image_url", image_url: { url: `data:image/png;base64,${benchImage.toString("base64")}` } },
        { type: "text", text: "Which shape is shown in the image?\nA. circle\nB. square" },
      ],
    },
  ],
}

const clients = [
  { name: "new", Client: Fleet.OpenAiClient },
  { name: "base", Client: baseFleet.OpenAiClient },
] as const
const runtimes = clients.map(({ Client }) => ManagedRuntime.make(Client.layer))
const services = await Promise.all(
  runtimes.map((runtime, i) => runtime.runPromise(clients[i]!.Client as typeof Fleet.OpenAiClient)),
)

let seed = 0
const whole = (client: Fleet.OpenAiClient["Service"]) =>
  client.chat(target, { ...request, seed: seed++ }, { requestId: `r${seed}`, timeout: Duration.seconds(30) })
const aborted = (client: Fleet.OpenAiClient["Service"]) =>
  Effect.gen(function* () {
    const call = yield* Effect.forkChild(whole(client))
    yield* Effect.sleep(3)
    yield* Fiber.interrupt(call)
    yield* whole(client)
  })
const kinds: Record<string, (client: Fleet.OpenAiClient["Service"]) => Effect.Effect<unknown, unknown>> = {
  whole,
  aborted,
}

const settings = Object.entries(process.env)
  .filter(([name]) => name.startsWith("UPSTREAM_CALL_"))
  .map(([name, value]) => `${name}=${value} `)
  .join("")
report.line(`Command: ${settings}node --conditions=@stagebeam/source bench/upstream-call.ts`)
report.line(
  `OpenAiClient.chat CPU per call, this checkout ("new") against ${BASELINE}'s libs/fleet ("base"), same process: ${CALLS} calls per kind and client after 30 of warm-up, blocks of 10 taking turns (alternating which goes first); 1 vllm-sim (--speed 100).`,
)
report.line(machineLine())
const quantile = (sorted: ReadonlyArray<number>, q: number) => sorted[Math.floor(q * (sorted.length - 1))]!
const rows: Array<Array<string>> = []
for (const kind of KINDS) {
  const call = kinds[kind]!
  const run = (i: number) => runtimes[i]!.runPromise(call(services[i]!))
  for (let i = 0; i < services.length; i++) for (let w = 0; w < 30; w++) await run(i)
  const cpu = [0, 0]
  const ratios: Array<number> = []
  for (let block = 0; block < CALLS / 10; block++) {
    const here = [0, 0]
    for (const i of block % 2 === 0 ? [0, 1] : [1, 0]) {
      const before = process.cpuUsage()
      for (let c = 0; c < 10; c++) await run(i)
      const used = process.cpuUsage(before)
      here[i] = used.user + used.system
      cpu[i]! += here[i]!
    }
    ratios.push(here[0]! / here[1]!)
  }
  ratios.sort((a, b) => a - b)
  const perCall = cpu.map((us) => us / 1000 / CALLS)
  rows.push([
    kind,
    fixed(perCall[0]!, 3),
    fixed(perCall[1]!, 3),
    fixed(perCall[0]! / perCall[1]!, 3),
    `${fixed(quantile(ratios, 0.5), 3)} (${fixed(quantile(ratios, 0.25), 3)}–${fixed(quantile(ratios, 0.75), 3)})`,
  ])
}
report.table(["call", "new CPU ms/call", "base CPU ms/call", "new/base", "block ratios: median (quartiles)"], rows)
await Promise.all(runtimes.map((runtime) => runtime.dispose()))
sim.child.kill()
console.log(`saved ${report.save()}`)
process.exit(0)
