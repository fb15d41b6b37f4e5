/**
 * GPU cost of one Reason call per strategy and N (the simulator's cost accounting), and the throughput of the whole
 * stack (gateway + 2 simulated H100 servers) at a fixed concurrency.
 * Run: node --conditions=@stagebeam/source bench/cost.ts [--profile llama-3.2-11b-vision-h100-pessimistic]
 */
import type { ReasonRequest } from "@stagebeam/proto"
import { syntheticQuestions } from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { type Counters, difference, readCounters } from "./lib/counters.ts"
import { benchImage } from "./lib/image.ts"
import { BENCH_PROFILE, profileAssumptions, resultsName } from "./lib/profile.ts"
import { fixed, machineLine, makeReport, percent } from "./lib/report.ts"
import { startStack } from "./lib/stack.ts"
import { median } from "./lib/stats.ts"
import { bestOfN, greedy, type StrategyConfig, stageBeam } from "./lib/strategies.ts"

const PROFILE = BENCH_PROFILE
const COST_CALLS = 8
const COST_SPEED = 20
const THROUGHPUT_SERVERS = 2
const THROUGHPUT_SPEED = 10
const THROUGHPUT_CONFIG = stageBeam(4)
const WARM_UP_S = 8
const WINDOW_S = 30

const costConfigs: ReadonlyArray<StrategyConfig> = [
  greedy,
  bestOfN(2),
  bestOfN(4),
  bestOfN(8),
  stageBeam(2),
  stageBeam(4),
  stageBeam(8),
  stageBeam(4, "SEQUENTIAL"),
]

const report = makeReport(resultsName("cost"))

const requestFor = (config: StrategyConfig, question: string, seed: number): ReasonRequest => ({
  question,
  image: { data: benchImage },
  search: { ...config.search, seed: String(seed) },
})

/**
 * No faults here: a health check or try that times out on a shared, overloaded machine must not eject a healthy
 * simulated server (it did, failing a run with "no server of the generator pool can take the call").
 */
const STEADY_UPSTREAM = { healthInterval: "1h", failureThreshold: 1000 } as const

/** Part 1: each configuration's calls one after the other on one server, so a call's parallel requests batch. */
const costPerCall = Effect.gen(function* () {
  const stack = yield* startStack({
    generators: [{ profile: PROFILE, speed: COST_SPEED, seed: 1 }],
    settings: { upstream: STEADY_UPSTREAM },
  })
  const questions = syntheticQuestions(COST_CALLS, 5)
  report.line(`1. GPU cost of one Reason call: profile "${PROFILE}" (${stack.generators[0]!.profile.description})`)
  report.line(
    `   ${COST_CALLS} calls per row (synthetic questions, seeds 1..${COST_CALLS}), one at a time, on 1 server at speed ${COST_SPEED}, self-judge;`,
  )
  report.line("   figures per call; GPU-s are modelled (virtual) seconds the server's engine was busy")
  report.line()
  const rows: Array<Array<string>> = []
  let greedyBusy = Number.NaN
  for (const config of costConfigs) {
    const before = readCounters(stack.servers)
    const latencies: Array<number> = []
    let judgeCalls = 0
    for (const [i, q] of questions.entries()) {
      const started = performance.now()
      const response = yield* stack.reason(requestFor(config, q.question, i + 1))
      latencies.push(((performance.now() - started) * COST_SPEED) / 1000)
      judgeCalls += (response.usage?.judgeCalls ?? 0) + (response.usage?.correctnessChecks ?? 0)
    }
    const d: Counters = difference(readCounters(stack.servers), before)
    const per = (x: number) => x / questions.length
    if (config === greedy) greedyBusy = per(d.busyGpuSeconds)
    rows.push([
      config.label,
      fixed(per(d.busyGpuSeconds)),
      fixed(per(d.busyGpuSeconds) / greedyBusy, 1),
      fixed(per(d.prefillGpuSeconds)),
      fixed(per(d.decodeGpuSeconds)),
      fixed(per(d.requests), 1),
      fixed(per(judgeCalls), 1),
      fixed(per(d.prefillTokens), 0),
      fixed(per(d.imagesEncoded), 1),
      fixed(per(d.generationTokens), 0),
      fixed(median(latencies), 1),
    ])
  }
  report.table(
    [
      "strategy",
      "busy GPU-s",
      "x GREEDY",
      "prefill GPU-s",
      "decode GPU-s",
      "requests",
      "of which judge",
      "prefill tok",
      "images",
      "output tok",
      "latency s (median)",
    ],
    rows,
  )
  report.line()
  report.line(
    "   prefill tok = decoder prompt tokens computed (image counted as one placeholder; its encoder cost is per tile, per child request: n > 1 is n children on V0);",
  )
  report.line("   output tok = generated tokens over all samples; latency = wall time × speed, i.e. simulated seconds.")
}).pipe(Effect.scoped)

/** Part 2: closed-loop clients, each sending its next call as soon as the last one answered. */
const throughputAt = (concurrency: number) =>
  Effect.gen(function* () {
    const stack = yield* startStack({
      generators: Array.from({ length: THROUGHPUT_SERVERS }, (_, i) => ({
        profile: PROFILE,
        speed: THROUGHPUT_SPEED,
        seed: i + 1,
      })),
      settings: {
        admission: { maxRunningSequences: 4 * Math.max(32, concurrency), maxQueued: 4 * concurrency },
        upstream: STEADY_UPSTREAM,
      },
    })
    const questions = syntheticQuestions(512, 9)
    const start = performance.now()
    const windowStart = start + WARM_UP_S * 1000
    const windowEnd = windowStart + WINDOW_S * 1000
    let next = 0
    const finished: Array<{ at: number; latencyS: number }> = []
    let atWindowStart: { counters: Counters; virtualS: number; cpu: NodeJS.CpuUsage } | undefined
    const client = Effect.gen(function* () {
      while (performance.now() < windowEnd) {
        const i = next++
        const q = questions[i % questions.length]!
        const sent = performance.now()
        yield* stack.reason(requestFor(THROUGHPUT_CONFIG, q.question, i + 1))
        const at = performance.now()
        finished.push({ at, latencyS: ((at - sent) * THROUGHPUT_SPEED) / 1000 })
      }
    })
    const mark = Effect.gen(function* () {
      yield* Effect.sleep(`${WARM_UP_S} seconds`)
      atWindowStart = {
        counters: readCounters(stack.servers),
        virtualS: stack.servers[0]!.stats().virtualSeconds,
        cpu: process.cpuUsage(),
      }
      yield* Effect.sleep(`${WINDOW_S} seconds`)
      const counters = difference(readCounters(stack.servers), atWindowStart.counters)
      const virtualS = stack.servers[0]!.stats().virtualSeconds - atWindowStart.virtualS
      const cpu = process.cpuUsage(atWindowStart.cpu)
      return { counters, virtualS, cpuShare: (cpu.user + cpu.system) / 1000 / (WINDOW_S * 1000) }
    })
    const clients = Effect.forEach(Array.from({ length: concurrency }), () => client, { concurrency: "unbounded" })
    const [window] = yield* Effect.all([mark, clients], { concurrency: "unbounded" })
    const inWindow = finished.filter((f) => f.at >= windowStart && f.at < windowEnd)
    const callsPerVirtualS = inWindow.length / window.virtualS
    const sorted = inWindow.map((f) => f.latencyS).sort((a, b) => a - b)
    return [
      String(concurrency),
      String(inWindow.length),
      fixed(callsPerVirtualS, 3),
      fixed(callsPerVirtualS * 3600, 0),
      fixed(median(sorted), 1),
      fixed(sorted[Math.floor(0.9 * (sorted.length - 1))] ?? Number.NaN, 1),
      percent(window.counters.busyGpuSeconds / (window.virtualS * THROUGHPUT_SERVERS)),
      fixed(window.counters.busyGpuSeconds / inWindow.length, 2),
      String(window.counters.preemptions),
      percent(window.cpuShare, 0),
    ]
  }).pipe(Effect.scoped)

const throughput = Effect.gen(function* () {
  report.line()
  report.line(
    `2. Throughput of the stack: ${THROUGHPUT_CONFIG.label} (KNOCKOUT, default sampling) over ${THROUGHPUT_SERVERS} servers "${PROFILE}" at speed ${THROUGHPUT_SPEED}, self-judge`,
  )
  report.line(
    `   closed loop: C clients each send a Reason call when their last one answers; ${WARM_UP_S} s wall warm-up, then a ${WINDOW_S} s wall window`,
  )
  report.line(
    `   (= ${WINDOW_S * THROUGHPUT_SPEED} simulated s); calls/s and latencies are simulated time (wall × speed)`,
  )
  report.line()
  const rows = []
  for (const concurrency of [8, 32]) rows.push(yield* throughputAt(concurrency))
  report.table(
    [
      "C",
      "calls in window",
      "calls/s",
      "calls/h",
      "latency s p50",
      "p90",
      "GPU busy",
      "GPU-s/call",
      "preemptions",
      "bench process CPU",
    ],
    rows,
  )
  report.line()
  report.line(
    "Assumptions: the simulator's H100 performance model (see services/vllm-sim profiles.ts) is the GPU; the gateway,",
  )
  report.line(
    "the simulators and the clients share one Node process, whose CPU share of one core is shown: when it nears 100%",
  )
  report.line(
    "the figure is bounded by this machine, not by the modelled GPUs. At speed S the gateway's own per-call overhead",
  )
  report.line(
    "weighs S times more in simulated time than in reality, so these figures are a lower bound on the stack's rate.",
  )
  report.line(machineLine())
  for (const line of profileAssumptions()) report.line(line)
})

const program = Effect.gen(function* () {
  yield* costPerCall
  yield* throughput
  report.line()
  report.line(`saved to ${report.save()}`)
})

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
