/**
 * The gateway's own cost (issue #24): CPU per answer and per upstream call, this checkout's gateway against a
 * baseline gateway from another checkout, in the same run, taking turns call by call so that the machine's other load
 * falls on both alike.
 * - GREEDY and STAGE_BEAM N=2/4/8 (default schedule otherwise), with a small PNG (64×48) and a 1600×1200 JPEG (a
 *   photo-like picture encoded by sharp at quality 90), over gRPC and over the HTTP door (POST /v1/chat/completions).
 * - Idle: both gateways over 8 simulated servers with no calls, CPU per second.
 * - First, the transport alone, in this process: one non-streamed chat call (N=4, max_tokens 64) to a simulator, CPU
 *   per call through the openai SDK over Node's fetch (the baseline's transport), the SDK over the lean transport
 *   (this checkout's), and undici.request directly with the answer checked (the floor): the SDK's own share.
 * CPU is the gateway process's user + system time (/proc/<pid>/stat, 10 ms ticks: summed over a block of calls, then
 * divided); upstream calls are the gateway's own stagebeam_upstream_requests_total (scraped outside the CPU window).
 * Simulator assumptions: vllm-sim processes (--speed 100: a call's modelled GPU time runs 100× faster than a real
 * H100), on the same cores as the gateways; their token timings set how many calls overlap, not the gateway's CPU per
 * call.
 *
 * Run: node --conditions=@stagebeam/source bench/gateway-cpu.ts
 *   GATEWAY_CPU_BASELINE=<commit or dir> (default b4a2550: the main this work started from, unpacked with `git
 *   archive` under tmp/, its workspace packages linked to its own sources); GATEWAY_CPU_CALLS=<calls per gateway and
 *   setting> (default 6); GATEWAY_CPU_DOORS=grpc,http; GATEWAY_CPU_IDLE_S=<seconds> (default 20).
 */
import { readFileSync } from "node:fs"
import { checkAnswer, makeLeanTransport } from "@stagebeam/fleet"
import { makeReasonerClient } from "@stagebeam/proto"
import { Effect } from "effect"
import OpenAI from "openai"
import sharp from "sharp"
import { Agent, request } from "undici"
import { baselineCheckout } from "./lib/baseline.ts"
import { benchImage, photoLikePng } from "./lib/image.ts"
import { freePort, startGatewayProcess, startSimulatorProcess } from "./lib/processes.ts"
import { fixed, makeReport } from "./lib/report.ts"

const CALLS = Number(process.env.GATEWAY_CPU_CALLS ?? 6)
const DOORS = (process.env.GATEWAY_CPU_DOORS ?? "grpc,http").split(",")
const IDLE_S = Number(process.env.GATEWAY_CPU_IDLE_S ?? 20)
const SPEED = 100
const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"
const report = makeReport("gateway-cpu")

const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const upstreamCalls = async (metricsUrl: string): Promise<number> => {
  const text = await fetch(metricsUrl).then((response) => response.text())
  let total = 0
  for (const match of text.matchAll(/^stagebeam_upstream_requests_total(?:\{[^}]*\})? (\S+)/gm))
    total += Number(match[1])
  return total
}

const photoJpeg = await sharp(await photoLikePng(1600, 1200, 1))
  .jpeg({ quality: 90 })
  .toBuffer()
const images = [
  { name: "PNG 64x48", bytes: benchImage, mime: "image/png" },
  { name: `JPEG 1600x1200 (${Math.round(photoJpeg.length / 1024)} kB)`, bytes: photoJpeg, mime: "image/jpeg" },
]

interface Config {
  readonly label: string
  readonly strategy: "GREEDY" | "STAGE_BEAM"
  readonly n: number
}
const configs: ReadonlyArray<Config> = [
  { label: "GREEDY", strategy: "GREEDY", n: 1 },
  { label: "STAGE_BEAM N=2", strategy: "STAGE_BEAM", n: 2 },
  { label: "STAGE_BEAM N=4", strategy: "STAGE_BEAM", n: 4 },
  { label: "STAGE_BEAM N=8", strategy: "STAGE_BEAM", n: 8 },
]

type Gateway = Awaited<ReturnType<typeof startGatewayProcess>>

const start = async (sims: ReadonlyArray<{ readonly url: string }>, checkout?: string) =>
  startGatewayProcess({ STAGEBEAM_ENDPOINTS: sims.map((s) => s.url).join(",") }, checkout)

/** One answer from `gateway` through `door`. */
const ask = (gateway: Gateway, door: string, config: Config, image: (typeof images)[number], seed: number) =>
  Effect.gen(function* () {
    if (door === "grpc") {
      const client = yield* makeReasonerClient({ address: gateway.address, defaultDeadline: "300 seconds" })
      yield* client.Reason({
        question: QUESTION,
        image: { data: image.bytes },
        search: {
          strategy: config.strategy === "GREEDY" ? "STRATEGY_GREEDY" : "STRATEGY_STAGE_BEAM",
          ...(config.strategy === "STAGE_BEAM" && { candidatesPerStage: config.n }),
          seed: String(seed),
        },
      })
      return
    }
    const response = yield* Effect.promise(() =>
      fetch(`${gateway.httpUrl}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "Xkev/Llama-3.2V-11B-cot",
          messages: [
            {
              role: "user",
              content: [
                {
                  type: "image_url",
                  image_url: { url: `data:${image.mime};base64,${image.bytes.toString("base64")}` },
                },
                { type: "text", text: QUESTION },
              ],
            },
          ],
          stagebeam: {
            strategy: config.strategy.toLowerCase(),
            ...(config.strategy === "STAGE_BEAM" && { candidates: config.n }),
            seed,
          },
        }),
      }).then(async (r) => ({ status: r.status, text: await r.text() })),
    )
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${response.text.slice(0, 300)}`)
  }).pipe(Effect.scoped)

interface Figures {
  readonly cpuMsPerAnswer: number
  readonly upstreamPerAnswer: number
}

/** CALLS answers from each gateway, in turns; CPU and upstream calls summed per gateway. */
const measure = async (
  gateways: ReadonlyArray<Gateway>,
  door: string,
  config: Config,
  image: (typeof images)[number],
) => {
  for (const gateway of gateways) await Effect.runPromise(ask(gateway, door, config, image, 1000)) // warm-up
  const cpu = gateways.map(() => 0)
  const upstream = await Promise.all(gateways.map((g) => upstreamCalls(g.metricsUrl)))
  for (let call = 0; call < CALLS; call++)
    for (let i = 0; i < gateways.length; i++) {
      const pid = gateways[i]!.child.pid!
      const before = cpuSeconds(pid)
      await Effect.runPromise(ask(gateways[i]!, door, config, image, call + 1))
      cpu[i]! += cpuSeconds(pid) - before
    }
  const after = await Promise.all(gateways.map((g) => upstreamCalls(g.metricsUrl)))
  return gateways.map(
    (_, i): Figures => ({
      cpuMsPerAnswer: (cpu[i]! * 1000) / CALLS,
      upstreamPerAnswer: (after[i]! - upstream[i]!) / CALLS,
    }),
  )
}

const baselineDir = baselineCheckout(process.env.GATEWAY_CPU_BASELINE ?? "b4a2550", "gateway-cpu-baseline")
report.line(
  `Gateway CPU per answer and per upstream call: this checkout ("new") vs the baseline ${process.env.GATEWAY_CPU_BASELINE ?? "b4a2550"} ("base"), same run.`,
)
report.line(
  `${CALLS} answers per gateway and setting after a warm-up, one at a time, the gateways taking turns; 2 vllm-sim processes (--speed ${SPEED}); default settings.`,
)
report.line(
  "CPU: gateway user+system from /proc (10 ms ticks, summed over the block); upstream calls from the gateway's metric.",
)
report.line(
  "The machine (2 cores) was shared with other engineers' work while this ran: absolute figures move with it, the ratios (same run, in turns) less.",
)
report.line()

const sims = await Promise.all([0, 1].map(async () => startSimulatorProcess(await freePort(), SPEED)))

// Part 0: the transport alone.
{
  const server = sims[0]!.url
  const models = (await fetch(`${server}/v1/models`).then((r) => r.json())) as { data: Array<{ id: string }> }
  const model = models.data[0]!.id
  const TRANSPORT_CALLS = Number(process.env.GATEWAY_CPU_TRANSPORT_CALLS ?? 300)
  const bodyFor = (image: (typeof images)[number]) => ({
    model,
    n: 4,
    max_tokens: 64,
    messages: [
      {
        role: "user" as const,
        content: [
          {
            type: "image_url" as const,
            image_url: { url: `data:${image.mime};base64,${image.bytes.toString("base64")}` },
          },
          { type: "text" as const, text: QUESTION },
        ],
      },
    ],
  })
  const viaFetch = new OpenAI({ baseURL: `${server}/v1`, apiKey: "x", maxRetries: 0 })
  const lean = makeLeanTransport()
  const viaLean = new OpenAI({
    baseURL: `${server}/v1`,
    apiKey: "x",
    maxRetries: 0,
    logLevel: "off",
    fetch: lean.fetch,
  })
  const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 })
  const paths: ReadonlyArray<readonly [string, (body: ReturnType<typeof bodyFor>) => Promise<unknown>]> = [
    [
      "SDK over fetch (baseline)",
      (body) => viaFetch.chat.completions.create(body as never, { headers: { "X-Request-Id": "bench" } }),
    ],
    [
      "SDK over lean transport (new)",
      (body) => viaLean.chat.completions.create(body as never, { headers: { "X-Request-Id": "bench" } }),
    ],
    [
      "undici.request direct (floor)",
      async (body) => {
        const answer = await request(`${server}/v1/chat/completions`, {
          dispatcher: agent,
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": "bench" },
          body: JSON.stringify(body),
        })
        const checked = checkAnswer(await answer.body.json(), body)
        if ("problem" in checked) throw new Error(checked.problem)
        return checked
      },
    ],
  ]
  const transportRows: Array<Array<string>> = []
  for (const image of images) {
    const body = bodyFor(image)
    const cpu = paths.map(() => 0)
    for (const [, call] of paths) for (let i = 0; i < 20; i++) await call(body) // warm-up
    // Blocks of 10 calls per path, in turns.
    for (let block = 0; block < TRANSPORT_CALLS / 10; block++)
      for (let p = 0; p < paths.length; p++) {
        const before = process.cpuUsage()
        for (let i = 0; i < 10; i++) await paths[p]![1](body)
        const used = process.cpuUsage(before)
        cpu[p]! += used.user + used.system
      }
    const perCall = cpu.map((us) => us / 1000 / TRANSPORT_CALLS)
    for (let p = 0; p < paths.length; p++)
      transportRows.push([
        image.name,
        paths[p]![0],
        fixed(perCall[p]!, 3),
        fixed(perCall[p]! - perCall[2]!, 3),
        fixed(perCall[p]! / perCall[0]!, 2),
      ])
  }
  report.line(
    `0. The transport alone: one chat call (N=4, max_tokens 64, the image inline), ${TRANSPORT_CALLS} calls per path in blocks of 10 taking turns, CPU of this process per call.`,
  )
  report.table(["image", "path", "CPU ms/call", "over floor", "vs SDK+fetch"], transportRows)
  report.line()
  await lean.close()
  await agent.close()
}

if (process.env.GATEWAY_CPU_ONLY_TRANSPORT === "1") {
  for (const sim of sims) sim.child.kill("SIGTERM")
  process.exit(0)
}
const mine = await start(sims)
const base = await start(sims, baselineDir)
const rows: Array<Array<string>> = []
for (const door of DOORS)
  for (const image of images)
    for (const config of configs) {
      const [now, before] = await measure([mine, base], door, config, image)
      const perCall = (f: Figures) => f.cpuMsPerAnswer / Math.max(1, f.upstreamPerAnswer)
      const row = [
        door,
        image.name,
        config.label,
        fixed(now!.upstreamPerAnswer, 1),
        fixed(before!.upstreamPerAnswer, 1),
        fixed(now!.cpuMsPerAnswer, 0),
        fixed(before!.cpuMsPerAnswer, 0),
        fixed(perCall(now!), 2),
        fixed(perCall(before!), 2),
        fixed(perCall(now!) / perCall(before!), 2),
      ]
      console.error(row.join("  "))
      rows.push(row)
    }
report.table(
  ["door", "image", "search", "calls/ans new", "base", "CPU ms/ans new", "base", "CPU ms/call new", "base", "new/base"],
  rows,
)
for (const gateway of [mine, base]) gateway.child.kill("SIGTERM")
await Promise.all([mine.exited, base.exited])

// Idle: 8 servers, no calls.
const eight = [
  ...sims,
  ...(await Promise.all([0, 1, 2, 3, 4, 5].map(async () => startSimulatorProcess(await freePort(), SPEED)))),
]
const idleMine = await start(eight)
const idleBase = await start(eight, baselineDir)
for (const gateway of [idleMine, idleBase]) await Effect.runPromise(ask(gateway, "grpc", configs[2]!, images[0]!, 1))
await new Promise((resolve) => setTimeout(resolve, 3_000))
const idleBefore = [idleMine, idleBase].map((g) => cpuSeconds(g.child.pid!))
await new Promise((resolve) => setTimeout(resolve, IDLE_S * 1000))
const idle = [idleMine, idleBase].map((g, i) => ((cpuSeconds(g.child.pid!) - idleBefore[i]!) * 1000) / IDLE_S)
report.line()
report.line(
  `Idle over 8 servers (after one STAGE_BEAM N=4 answer and 3 s, then ${IDLE_S} s without calls): ` +
    `new ${fixed(idle[0]!, 1)} ms CPU/s, base ${fixed(idle[1]!, 1)} ms CPU/s (new/base ${fixed(idle[0]! / idle[1]!, 2)}).`,
)
for (const gateway of [idleMine, idleBase]) gateway.child.kill("SIGTERM")
for (const sim of eight) sim.child.kill("SIGTERM")
console.log(`saved ${report.save()}`)
process.exit(0)
