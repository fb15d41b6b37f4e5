/**
 * Latency of STAGE_BEAM against GREEDY (one plain answer) on the simulator's H100 profile, and what the latency
 * techniques of issue 13 buy and cost: speculative next stage (OFF / ADAPTIVE / ALWAYS) and the constrained
 * single-choice verdict (CHOICE vs FREE_TEXT), each alone and together. Stragglers are not built (see README).
 * 1. one call at a time, N = 2, 4, 8: median latency / GREEDY's, GPU-seconds / the plain search's;
 * 2. the ablation at N = 4;
 * 3. at 50% load (open-loop arrivals at half the plain search's saturated throughput) and at saturation (closed loop):
 *    latency, GPU-seconds per answer and throughput with and without speculation.
 * Run: node --conditions=@stagebeam/source bench/latency.ts
 */
import type { ReasonRequest } from "@stagebeam/proto"
import { syntheticQuestions } from "@stagebeam/vllm-sim"
import { Duration, Effect, Fiber, Random } from "effect"
import { difference, readCounters } from "./lib/counters.ts"
import { benchImage } from "./lib/image.ts"
import { fixed, makeReport, percent } from "./lib/report.ts"
import { type Stack, startStack } from "./lib/stack.ts"
import { median } from "./lib/stats.ts"

const PROFILE = "llama-3.2-11b-vision-h100"
const SERVERS = 2
/** Virtual seconds per wall second. The check at the end reruns N=4 at SPEED_CHECK to show the ratios hold. */
const SPEED = 4
const SPEED_CHECK = 2
const SEEDS = 8
const LOAD_WINDOW_S = 20
const HALF_LOAD_WINDOW_S = 15
const SATURATION_CONCURRENCY = 12

type Speculation = "SPECULATION_OFF" | "SPECULATION_ADAPTIVE" | "SPECULATION_ALWAYS"
type Verdict = "VERDICT_MODE_CHOICE" | "VERDICT_MODE_FREE_TEXT"

interface Config {
  readonly label: string
  readonly search: NonNullable<ReasonRequest["search"]>
}

const greedy: Config = { label: "GREEDY", search: { strategy: "STRATEGY_GREEDY" } }
const beam = (n: number, speculation: Speculation, verdict?: Verdict, stragglers = false): Config => ({
  label: [
    `N=${n}`,
    `spec ${speculation.slice("SPECULATION_".length).toLowerCase()}`,
    ...(verdict === undefined ? [] : [verdict.slice("VERDICT_MODE_".length).toLowerCase()]),
    ...(stragglers ? ["stragglers"] : []),
  ].join(" "),
  search: {
    strategy: "STRATEGY_STAGE_BEAM",
    candidatesPerStage: n,
    speculation,
    stragglers,
    ...(verdict === undefined ? {} : { verdict }),
  },
})

const report = makeReport("latency")
const questions = syntheticQuestions(SEEDS, 13)

const requestFor = (config: Config, i: number): ReasonRequest => ({
  question: questions[i % questions.length]!.question,
  image: { data: benchImage },
  search: { ...config.search, seed: String(i + 1) },
})

interface Measured {
  /** Median latency, virtual seconds. */
  readonly latency: number
  readonly p90: number
  /** Busy GPU-seconds per answer (virtual). */
  readonly gpu: number
}

const quantile = (xs: ReadonlyArray<number>, q: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

/** Each config's calls one after the other (seeds 1..SEEDS), the configs interleaved per seed (fair to drift). */
const oneAtATime = (stack: Stack, configs: ReadonlyArray<Config>, speed: number) =>
  Effect.gen(function* () {
    const latencies = configs.map((): Array<number> => [])
    const gpu = configs.map(() => 0)
    for (let i = 0; i < SEEDS; i++) {
      for (const [c, config] of configs.entries()) {
        const before = readCounters(stack.servers)
        const started = performance.now()
        yield* stack.reason(requestFor(config, i))
        latencies[c]!.push(((performance.now() - started) * speed) / 1000)
        // Wait until aborted speculative requests have left the engines before reading the counters.
        yield* Effect.sleep(Duration.millis(20))
        gpu[c]! += difference(readCounters(stack.servers), before).busyGpuSeconds
      }
    }
    return configs.map(
      (_, c): Measured => ({
        latency: median(latencies[c]!),
        p90: quantile(latencies[c]!, 0.9),
        gpu: gpu[c]! / SEEDS,
      }),
    )
  })

/** Closed loop: `concurrency` clients, each sending the next call when its answer arrives, for `windowS` wall s. */
const closedLoop = (stack: Stack, config: Config, concurrency: number, windowS: number, speed: number) =>
  Effect.gen(function* () {
    const before = readCounters(stack.servers)
    const started = performance.now()
    const latencies: Array<number> = []
    let next = 0
    const client = Effect.gen(function* () {
      while (performance.now() - started < windowS * 1000) {
        const t = performance.now()
        yield* stack.reason(requestFor(config, next++))
        latencies.push(((performance.now() - t) * speed) / 1000)
      }
    })
    yield* Effect.all(
      Array.from({ length: concurrency }, () => client),
      { concurrency: "unbounded" },
    )
    const wallS = (performance.now() - started) / 1000
    const d = difference(readCounters(stack.servers), before)
    return {
      throughput: latencies.length / (wallS * speed),
      latency: median(latencies),
      gpu: d.busyGpuSeconds / Math.max(1, latencies.length),
    }
  })

/** Open loop: Poisson arrivals at `rate` answers per virtual second for `windowS` wall s; latency of each. */
const openLoop = (stack: Stack, config: Config, rate: number, windowS: number, speed: number) =>
  Effect.gen(function* () {
    const before = readCounters(stack.servers)
    const started = performance.now()
    const latencies: Array<number> = []
    const fibers: Array<Fiber.Fiber<void, Error>> = []
    let i = 0
    while (performance.now() - started < windowS * 1000) {
      const request = requestFor(config, i++)
      fibers.push(
        yield* Effect.forkChild(
          Effect.gen(function* () {
            const t = performance.now()
            yield* stack.reason(request)
            latencies.push(((performance.now() - t) * speed) / 1000)
          }),
        ),
      )
      const gapVirtualS = -Math.log(1 - (yield* Random.next)) / rate
      yield* Effect.sleep(Duration.millis((gapVirtualS * 1000) / speed))
    }
    yield* Fiber.joinAll(fibers)
    const d = difference(readCounters(stack.servers), before)
    return { latency: median(latencies), p90: quantile(latencies, 0.9), gpu: d.busyGpuSeconds / latencies.length }
  })

const withStack = <A, E>(speed: number, body: (stack: Stack) => Effect.Effect<A, E>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const stack = yield* startStack({
        generators: Array.from({ length: SERVERS }, (_, i) => ({ profile: PROFILE, speed, seed: i + 1 })),
        settings: { log: { level: "none" }, http: { enabled: false } },
      })
      return yield* body(stack)
    }),
  )

const program = Effect.gen(function* () {
  const wallStarted = performance.now()
  report.line(
    `Latency of STAGE_BEAM (self-judge, KNOCKOUT, DEFAULT preset) vs GREEDY on ${SERVERS} simulated servers, profile "${PROFILE}", speed ${SPEED}.`,
  )
  report.line(
    "Latency: median over seeds 1..8 (synthetic questions), in virtual seconds, and as a ratio to GREEDY's median in the same run.",
  )
  report.line(
    "GPU: the servers' busy GPU-seconds per answer (virtual), as a ratio to the plain search (speculation off) of the same N.",
  )
  report.line("speculation: off = plain schedule; adaptive = the default (only on spare sequences); always = forced.")
  report.line()

  // 1 + 2: one call at a time.
  const ns = [2, 4, 8] as const
  const singleConfigs: Array<Config> = [greedy]
  for (const n of ns) {
    singleConfigs.push(
      beam(n, "SPECULATION_OFF"),
      beam(n, "SPECULATION_ADAPTIVE"),
      beam(n, "SPECULATION_ADAPTIVE", undefined, true),
    )
  }
  const ablation: Array<Config> = [
    beam(4, "SPECULATION_OFF", "VERDICT_MODE_FREE_TEXT"),
    beam(4, "SPECULATION_OFF", "VERDICT_MODE_CHOICE"),
    beam(4, "SPECULATION_ADAPTIVE", "VERDICT_MODE_FREE_TEXT"),
    beam(4, "SPECULATION_OFF", "VERDICT_MODE_FREE_TEXT", true),
    beam(4, "SPECULATION_ADAPTIVE", "VERDICT_MODE_CHOICE"),
    beam(4, "SPECULATION_OFF", "VERDICT_MODE_CHOICE", true),
    beam(4, "SPECULATION_ADAPTIVE", "VERDICT_MODE_CHOICE", true),
    beam(4, "SPECULATION_ALWAYS", "VERDICT_MODE_CHOICE", true),
  ]
  const [single, abl] = yield* withStack(SPEED, (stack) =>
    Effect.all([oneAtATime(stack, singleConfigs, SPEED), oneAtATime(stack, ablation, SPEED)]),
  )
  const greedyLatency = single[0]!.latency
  report.line("1. One call at a time")
  report.table(
    ["config", "median_s", "p90_s", "x GREEDY", "GPU-s", "GPU x plain", "extra GPU"],
    singleConfigs.map((config, c) => {
      // Rows per N: off (the plain search), adaptive, adaptive + stragglers.
      const plainGpu = c === 0 ? single[0]!.gpu : single[c - ((c - 1) % 3)]!.gpu
      const m = single[c]!
      return [
        config.label,
        fixed(m.latency),
        fixed(m.p90),
        fixed(m.latency / greedyLatency),
        fixed(m.gpu),
        c === 0 ? "-" : fixed(m.gpu / plainGpu, 3),
        c === 0 ? "-" : percent(m.gpu / plainGpu - 1),
      ]
    }),
  )
  report.line()
  report.line(
    "2. Ablation at N=4, one call at a time (each technique alone and together; CHOICE is the preset's default)",
  )
  const ablationBase = abl[0]!
  report.table(
    ["config", "median_s", "x GREEDY", "x plain free-text", "GPU-s", "GPU x plain free-text"],
    ablation.map((config, c) => [
      config.label,
      fixed(abl[c]!.latency),
      fixed(abl[c]!.latency / greedyLatency),
      fixed(abl[c]!.latency / ablationBase.latency),
      fixed(abl[c]!.gpu),
      fixed(abl[c]!.gpu / ablationBase.gpu, 3),
    ]),
  )
  report.line()

  // 3: saturation, then 50% load.
  report.line(
    `3. Under load: saturation = N=4 from ${SATURATION_CONCURRENCY} closed-loop clients for ${LOAD_WINDOW_S} s wall; 50% load = Poisson arrivals at half the plain N=4 search's saturated throughput.`,
  )
  const load = yield* withStack(SPEED, (stack) =>
    Effect.gen(function* () {
      const plainSat = yield* closedLoop(
        stack,
        beam(4, "SPECULATION_OFF"),
        SATURATION_CONCURRENCY,
        LOAD_WINDOW_S,
        SPEED,
      )
      const specSat = yield* closedLoop(
        stack,
        beam(4, "SPECULATION_ADAPTIVE"),
        SATURATION_CONCURRENCY,
        LOAD_WINDOW_S,
        SPEED,
      )
      const allSat = yield* closedLoop(
        stack,
        beam(4, "SPECULATION_ADAPTIVE", undefined, true),
        SATURATION_CONCURRENCY,
        LOAD_WINDOW_S,
        SPEED,
      )
      const rate = plainSat.throughput / 2
      const half = []
      for (const n of ns) {
        const at = (config: Config) => openLoop(stack, config, rate * (4 / n), HALF_LOAD_WINDOW_S, SPEED)
        const plain = yield* at(beam(n, "SPECULATION_OFF"))
        const spec = yield* at(beam(n, "SPECULATION_ADAPTIVE"))
        const all = yield* at(beam(n, "SPECULATION_ADAPTIVE", undefined, true))
        half.push({ n, plain, spec, all })
      }
      return { plainSat, specSat, allSat, rate, half }
    }),
  )
  const sat = (label: string, m: typeof load.plainSat) => [
    label,
    fixed(m.throughput, 3),
    fixed(m.throughput / load.plainSat.throughput, 3),
    fixed(m.latency),
    fixed(m.gpu),
    percent(m.gpu / load.plainSat.gpu - 1),
  ]
  report.table(
    ["N=4 at saturation", "answers/s", "x off", "median_s", "GPU-s/answer", "extra GPU"],
    [
      sat("spec off", load.plainSat),
      sat("spec adaptive", load.specSat),
      sat("spec adaptive + stragglers", load.allSat),
    ],
  )
  report.line()
  report.line(
    `   50% load: ${fixed(load.rate, 3)} answers/s at N=4 (the same GPU demand at N=2 and 8: the rate scaled by 4/N), ${HALF_LOAD_WINDOW_S} s wall each; x GREEDY = over GREEDY's one-at-a-time median`,
  )
  const halfRow = (label: string, m: (typeof load.half)[number]["plain"], plain: typeof m) => [
    label,
    fixed(m.latency),
    fixed(m.p90),
    fixed(m.latency / greedyLatency),
    fixed(m.gpu),
    fixed(m.gpu / plain.gpu, 3),
  ]
  report.table(
    ["config", "median_s", "p90_s", "x GREEDY", "GPU-s/answer", "GPU x plain"],
    load.half.flatMap(({ n, plain, spec, all }) => [
      halfRow(`N=${n} spec off`, plain, plain),
      halfRow(`N=${n} spec adaptive`, spec, plain),
      halfRow(`N=${n} spec adaptive + stragglers`, all, plain),
    ]),
  )
  report.line()

  // 4: the time scale does not change the ratios.
  const check = yield* withStack(SPEED_CHECK, (stack) =>
    oneAtATime(
      stack,
      [
        greedy,
        beam(4, "SPECULATION_OFF"),
        beam(4, "SPECULATION_ADAPTIVE"),
        beam(4, "SPECULATION_ADAPTIVE", undefined, true),
      ],
      SPEED_CHECK,
    ),
  )
  report.line(`4. Time-scale check: N=4 one at a time at speed ${SPEED_CHECK} vs ${SPEED}`)
  // Rows of section 1 at N=4: off 4, adaptive 5, adaptive + stragglers 6.
  report.table(
    ["speed", "GREEDY_s", "N=4 off x GREEDY", "adaptive x GREEDY", "+ stragglers x GREEDY", "adaptive GPU x off"],
    [
      [
        String(SPEED),
        fixed(greedyLatency),
        fixed(single[4]!.latency / greedyLatency),
        fixed(single[5]!.latency / greedyLatency),
        fixed(single[6]!.latency / greedyLatency),
        fixed(single[5]!.gpu / single[4]!.gpu, 3),
      ],
      [
        String(SPEED_CHECK),
        fixed(check[0]!.latency),
        fixed(check[1]!.latency / check[0]!.latency),
        fixed(check[2]!.latency / check[0]!.latency),
        fixed(check[3]!.latency / check[0]!.latency),
        fixed(check[2]!.gpu / check[1]!.gpu, 3),
      ],
    ],
  )
  report.line()
  report.line(`wall time ${fixed((performance.now() - wallStarted) / 1000, 0)} s`)
  console.log(`saved ${report.save()}`)
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
