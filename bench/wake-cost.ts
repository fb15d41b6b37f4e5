/**
 * What a wake from idle costs (issue #24): the CPU of one small HTTP request on a keep-alive undici Pool, made back
 * to back and made after the process slept. gateway-cpu measures one answer at a time, so each upstream answer finds
 * the gateway asleep; under load (bench/scaling.ts) answers share its wakes. This measures the difference alone.
 * - timer: a setTimeout of `gap` ms and nothing else, CPU per turn (what sleeping and waking costs by itself);
 * - request: the same timer, then one GET /health to a simulator on 127.0.0.1 (answer read whole);
 * - the request's own CPU after a gap = request − timer; against the back-to-back request, the extra is what the
 *   request pays for waking a process that was idle. What the extra is made of (cold caches and predictors, the core's
 *   idle state, a VM's share of each interrupt) this does not separate.
 * CPU: process.cpuUsage (user + system, all threads) around each block of TURNS turns; blocks of every kind and gap
 * take turns in ROUNDS rounds; figures are over all blocks, with the blocks' spread. The simulator's CPU is not
 * counted (its own process).
 *
 * Run: node --conditions=@stagebeam/source bench/wake-cost.ts
 *   WAKE_COST_GAPS=<ms, comma-separated> (default 1,2,5,10,20); WAKE_COST_TURNS=<turns per block> (default 200);
 *   WAKE_COST_ROUNDS=<rounds> (default 4).
 */
import { Pool } from "undici"
import { freePort, startSimulatorProcess } from "./lib/processes.ts"
import { fixed, machineLine, makeReport } from "./lib/report.ts"

const GAPS = (process.env.WAKE_COST_GAPS ?? "1,2,5,10,20").split(",").map(Number)
const TURNS = Number(process.env.WAKE_COST_TURNS ?? 200)
const ROUNDS = Number(process.env.WAKE_COST_ROUNDS ?? 4)
const report = makeReport(process.env.WAKE_COST_RESULTS ?? "wake-cost")

const sim = await startSimulatorProcess(await freePort(), 100)
const pool = new Pool(sim.url, { connections: 1 })

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const get = async () => {
  const answer = await pool.request({ method: "GET", path: "/health" })
  await answer.body.arrayBuffer()
  if (answer.statusCode !== 200) throw new Error(`GET /health answered ${answer.statusCode}`)
}
const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** One block: TURNS turns of (sleep `gap` ms, if any) then (one request, if asked); CPU ms per turn. */
const block = async (gap: number, request: boolean) => {
  const before = cpuMs()
  for (let turn = 0; turn < TURNS; turn++) {
    if (gap > 0) await sleep(gap)
    if (request) await get()
  }
  return (cpuMs() - before) / TURNS
}

// Warm-up: the request path optimised, the connection made.
for (let i = 0; i < 2000; i++) await get()

const kinds = [
  { key: "back-to-back", gap: 0, request: true },
  ...GAPS.flatMap((gap) => [
    { key: `timer ${gap}`, gap, request: false },
    { key: `request ${gap}`, gap, request: true },
  ]),
]
const blocks = new Map<string, Array<number>>(kinds.map((kind) => [kind.key, []]))
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? kinds : [...kinds].reverse()
  for (const kind of order) blocks.get(kind.key)!.push(await block(kind.gap, kind.request))
}
await pool.close()
sim.child.kill("SIGTERM")

const mean = (values: ReadonlyArray<number>) => values.reduce((sum, value) => sum + value, 0) / values.length
const spreadOf = (values: ReadonlyArray<number>) => `${fixed(Math.min(...values), 3)}–${fixed(Math.max(...values), 3)}`
const backToBack = mean(blocks.get("back-to-back")!)

report.line("Wake cost: CPU of one GET /health on a keep-alive undici Pool, back to back and after a sleep.")
report.line(
  `${ROUNDS} rounds of one block of ${TURNS} turns per kind and gap, taking turns; one vllm-sim process (--speed 100) on 127.0.0.1 answers (its CPU not counted). CPU: process.cpuUsage of this process (all threads).`,
)
report.line(machineLine())
report.line()
report.table(
  ["gap", "timer alone ms/turn", "spread", "timer + request ms/turn", "spread", "request ms", "wake extra ms"],
  [
    [
      "0 (back to back)",
      "-",
      "-",
      fixed(backToBack, 3),
      spreadOf(blocks.get("back-to-back")!),
      fixed(backToBack, 3),
      "-",
    ],
    ...GAPS.map((gap) => {
      const timer = blocks.get(`timer ${gap}`)!
      const request = blocks.get(`request ${gap}`)!
      const own = mean(request) - mean(timer)
      return [
        `${gap} ms`,
        fixed(mean(timer), 3),
        spreadOf(timer),
        fixed(mean(request), 3),
        spreadOf(request),
        fixed(own, 3),
        fixed(own - backToBack, 3),
      ]
    }),
  ],
)
report.line()
report.line(
  "request ms = (timer + request) − timer alone: the request's own CPU after the process slept `gap` ms; wake extra = that − the back-to-back request.",
)
report.save()
