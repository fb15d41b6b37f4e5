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
const SATURATION_CONCURRENCY = 12

type Speculation = "SPECULATION_OFF" | "SPECULATION_ADAPTIVE" | "SPECULATION_ALWAYS"
type Verdict = "VERDICT_MODE_CHOICE" | "VERDICT_MODE_FREE_TEXT"

interface Config {
  readonly label: string
  readonly search: NonNullable<ReasonRequest["search"]>
}

const greedy: Config = { label: "GREEDY", search: { strategy: "STRATEGY_GREEDY" } }
const beam = (n: number, speculation: Speculation, verdict?: Verdict): Config => ({
  label: `N=${n} ${speculation.slice("SPECULATION_".length).toLowerCase()}${verdict === undefined ? "" : ` ${verdict.slice("VERDICT_MODE_".length).toLowerCase()}`}`,
  search: {
    strategy: "STRATEGY_STAGE_BEAM",
    candidatesPerStage: n,
    speculation,
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
  for (const n of ns) singleConfigs.push(beam(n, "SPECULATION_OFF"), beam(n, "SPECULATION_ADAPTIVE"))
  const ablation: Array<Config> = [
    beam(4, "SPECULATION_OFF", "VERDICT_MODE_FREE_TEXT"),
    beam(4, "SPECULATION_ADAPTIVE", "VERDICT_MODE_FREE_TEXT"),
    beam(4, "SPECULATION_OFF", "VERDICT_MODE_CHOICE"),
    beam(4, "SPECULATION_ADAPTIVE", "VERDICT_MODE_CHOICE"),
    beam(4, "SPECULATION_ALWAYS", "VERDICT_MODE_CHOICE"),
  ]
  const [single, abl] = yield* withStack(SPEED, (stack) =>
    Effect.all([oneAtATime(stack, singleConfigs, SPEED), oneAtATime(stack, ablation, SPEED)]),
  )
  const greedyLatency = single[0]!.latency
  report.line("1. One call at a time")
  report.table(
    ["config", "median_s", "p90_s", "x GREEDY", "GPU-s", "GPU x plain", "extra GPU"],
    singleConfigs.map((config, c) => {
      const plainGpu = c === 0 ? single[0]!.gpu : single[c % 2 === 1 ? c : c - 1]!.gpu
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
    `3. Under load (N=4): saturation = ${SATURATION_CONCURRENCY} closed-loop clients for ${LOAD_WINDOW_S} s wall; 50% load = Poisson arrivals at half the plain search's saturated throughput, ${LOAD_WINDOW_S} s wall.`,
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
      const rate = plainSat.throughput / 2
      const half = []
      for (const n of ns) {
        const plain = yield* openLoop(stack, beam(n, "SPECULATION_OFF"), rate * (4 / n), LOAD_WINDOW_S, SPEED)
        const spec = yield* openLoop(stack, beam(n, "SPECULATION_ADAPTIVE"), rate * (4 / n), LOAD_WINDOW_S, SPEED)
        half.push({ n, plain, spec })
      }
      return { plainSat, specSat, rate, half }
    }),
  )
  report.table(
    ["N=4 at saturation", "answers/s", "median_s", "GPU-s/answer"],
    [
      ["off", fixed(load.plainSat.throughput, 3), fixed(load.plainSat.latency), fixed(load.plainSat.gpu)],
      ["adaptive", fixed(load.specSat.throughput, 3), fixed(load.specSat.latency), fixed(load.specSat.gpu)],
    ],
  )
  report.line(
    `   throughput adaptive/off ${fixed(load.specSat.throughput / load.plainSat.throughput, 3)}, extra GPU-s per answer ${percent(load.specSat.gpu / load.plainSat.gpu - 1)}`,
  )
  report.line()
  report.line(
    `   50% load: ${fixed(load.rate, 3)} answers/s at N=4 (the same GPU demand at N=2 and 8: the rate scaled by 4/N); x GREEDY = over GREEDY's one-at-a-time median`,
  )
  report.table(
    ["config", "median_s", "p90_s", "x GREEDY", "GPU-s/answer", "GPU x plain"],
    load.half.flatMap(({ n, plain, spec }) => [
      [
        `N=${n} off`,
        fixed(plain.latency),
        fixed(plain.p90),
        fixed(plain.latency / greedyLatency),
        fixed(plain.gpu),
        "1.000",
      ],
      [
        `N=${n} adaptive`,
        fixed(spec.latency),
        fixed(spec.p90),
        fixed(spec.latency / greedyLatency),
        fixed(spec.gpu),
        fixed(spec.gpu / plain.gpu, 3),
      ],
    ]),
  )
  report.line()

  // 4: the time scale does not change the ratios.
  const check = yield* withStack(SPEED_CHECK, (stack) =>
    oneAtATime(stack, [greedy, beam(4, "SPECULATION_OFF"), beam(4, "SPECULATION_ADAPTIVE")], SPEED_CHECK),
  )
  report.line(`4. Time-scale check: N=4 one at a time at speed ${SPEED_CHECK} vs ${SPEED}`)
  report.table(
    ["speed", "GREEDY_s", "N=4 off x GREEDY", "N=4 adaptive x GREEDY", "adaptive GPU x off"],
    [
      [
        String(SPEED),
        fixed(greedyLatency),
        fixed(single[3]!.latency / greedyLatency),
        fixed(single[4]!.latency / greedyLatency),
        fixed(single[4]!.gpu / single[3]!.gpu, 3),
      ],
      [
        String(SPEED_CHECK),
        fixed(check[0]!.latency),
        fixed(check[1]!.latency / check[0]!.latency),
        fixed(check[2]!.latency / check[0]!.latency),
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
