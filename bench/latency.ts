/**
 * Latency of STAGE_BEAM against GREEDY (one plain answer) on the simulator's H100 profile, and what the latency
 * techniques of issue 13 buy and cost: speculative next stage (OFF / ADAPTIVE / ALWAYS, from the final or from each
 * finished sample: the width), stragglers, and the constrained single-choice verdict (CHOICE vs FREE_TEXT), each
 * alone and together. The servers schedule by priority (`--scheduling-policy priority`, as deploy/ runs vLLM).
 * 1. one call at a time, N = 2, 4, 8: median latency / GREEDY's, GPU-seconds / the plain search's;
 * 2. the ablation at N = 4;
 * 3. at saturation (closed loop) and at 50% load (open-loop arrivals at half the plain search's saturated
 *    throughput): throughput, latency and GPU-seconds per answer with and without speculation;
 * 4. N = 4 one at a time again in real time (speed 1), where the gateway's own CPU time is not magnified.
 * Run: node --conditions=@stagebeam/source bench/latency.ts [--profile llama-3.2-11b-vision-h100-pessimistic] [--quick]
 */
import type { ReasonRequest } from "@stagebeam/proto"
import { syntheticQuestions } from "@stagebeam/vllm-sim"
import { Duration, Effect, Fiber, Random } from "effect"
import { difference, readCounters } from "./lib/counters.ts"
import { benchImage } from "./lib/image.ts"
import { BENCH_PROFILE, profileAssumptions, resultsName } from "./lib/profile.ts"
import { fixed, machineLine, makeReport, percent } from "./lib/report.ts"
import { type Stack, startStack } from "./lib/stack.ts"
import { median } from "./lib/stats.ts"

const PROFILE = BENCH_PROFILE
const SERVERS = 2
/** Virtual seconds per wall second. The check at the end reruns N=4 at SPEED_CHECK to show the ratios hold. */
const SPEED = 4
const SPEED_CHECK = 1
/** vLLM's --scheduling-policy on every server; the gateway finds it with its probe and sends priorities. */
const POLICY = "priority"
const SEEDS = 8
const LOAD_WINDOW_S = 15
const WARM_UP_S = 4
const SATURATION_ROUNDS = 3
const HALF_LOAD_WINDOW_S = 15
const SATURATION_CONCURRENCY = 12
/** `--quick`: section 1 at N=4 only (GREEDY and the four N=4 schedules), for a second profile in little time. */
const QUICK = process.argv.includes("--quick")

type Speculation = "SPECULATION_OFF" | "SPECULATION_ADAPTIVE" | "SPECULATION_ALWAYS"
type Verdict = "VERDICT_MODE_CHOICE" | "VERDICT_MODE_FREE_TEXT"

interface Config {
  readonly label: string
  readonly search: NonNullable<ReasonRequest["search"]>
}

const greedy: Config = { label: "GREEDY", search: { strategy: "STRATEGY_GREEDY" } }
/** Speculation from the final only (2) or on every candidate as its sample finishes (WIDE). */
const WIDE = 64
interface Schedule {
  readonly verdict?: Verdict
  readonly stragglers?: boolean
  readonly width?: number
}
const beam = (n: number, speculation: Speculation, schedule: Schedule = {}): Config => {
  const { verdict, stragglers = false, width = 2 } = schedule
  const mode = speculation.slice("SPECULATION_".length).toLowerCase()
  return {
    label: [
      `N=${n}`,
      `spec ${mode}${speculation === "SPECULATION_OFF" ? "" : width > 2 ? " wide" : " final"}`,
      ...(verdict === undefined ? [] : [verdict.slice("VERDICT_MODE_".length).toLowerCase()]),
      ...(stragglers ? ["stragglers"] : []),
    ].join(" "),
    search: {
      strategy: "STRATEGY_STAGE_BEAM",
      candidatesPerStage: n,
      speculation,
      speculationWidth: width,
      stragglers,
      ...(verdict === undefined ? {} : { verdict }),
    },
  }
}
const WIDE_SPEC: Schedule = { width: WIDE }
const WIDE_STRAGGLERS: Schedule = { width: WIDE, stragglers: true }

const report = makeReport(resultsName("latency"))
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
  /**
   * Median over seeds of this config's latency over the first config's (GREEDY's) for the same seed, run next to it:
   * what the machine's other load does to both cancels out.
   */
  readonly ratio: number
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
        ratio: median(latencies[c]!.map((latency, i) => latency / latencies[0]![i]!)),
      }),
    )
  })

/**
 * Closed loop: `concurrency` clients, each sending the next call when its answer arrives. Counted over a window that
 * starts once the loop is full (`warmUpS`) and ends `windowS` later (answers finishing in it; the GPU time in it);
 * then the clients stop sending and the calls in flight finish uncounted.
 */
const closedLoop = (stack: Stack, config: Config, concurrency: number, windowS: number, speed: number) =>
  Effect.gen(function* () {
    const warmUpS = WARM_UP_S
    const started = performance.now()
    const windowStart = started + warmUpS * 1000
    const windowEnd = windowStart + windowS * 1000
    const latencies: Array<number> = []
    let before = readCounters(stack.servers)
    let after = before
    let next = 0
    const client = Effect.gen(function* () {
      while (performance.now() < windowEnd) {
        const t = performance.now()
        yield* stack.reason(requestFor(config, next++))
        const done = performance.now()
        if (done >= windowStart && done < windowEnd) latencies.push(((done - t) * speed) / 1000)
      }
    })
    const marks = Effect.gen(function* () {
      yield* Effect.sleep(Duration.millis(warmUpS * 1000))
      before = readCounters(stack.servers)
      yield* Effect.sleep(Duration.millis(windowS * 1000))
      after = readCounters(stack.servers)
    })
    yield* Effect.all([marks, ...Array.from({ length: concurrency }, () => client)], { concurrency: "unbounded" })
    const d = difference(after, before)
    return {
      throughput: latencies.length / (windowS * speed),
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
        generators: Array.from({ length: SERVERS }, (_, i) => ({
          profile: PROFILE,
          speed,
          seed: i + 1,
          schedulingPolicy: POLICY,
        })),
        // No faults here: a health check that times out on this shared, overloaded machine must not eject a healthy
        // simulated server (it did, failing whole runs with "no server of the generator pool can take the call").
        settings: {
          log: { level: "none" },
          http: { enabled: false },
          upstream: { healthInterval: "1h", failureThreshold: 1000 },
        },
      })
      return yield* body(stack)
    }),
  )

const program = Effect.gen(function* () {
  const wallStarted = performance.now()
  report.line(
    `Latency of STAGE_BEAM (self-judge, KNOCKOUT, DEFAULT preset) vs GREEDY on ${SERVERS} simulated servers, profile "${PROFILE}", --scheduling-policy ${POLICY}, speed ${SPEED}.`,
  )
  report.line(
    "Latency: median over seeds 1..8 (synthetic questions), in virtual seconds; x GREEDY = over GREEDY's median; x GREEDY per seed = median over seeds of the ratio to GREEDY's call for the same seed, run just before (robust to the machine's other load).",
  )
  report.line(
    "GPU: the servers' busy GPU-seconds per answer (virtual), as a ratio to the plain search (speculation off) of the same N.",
  )
  report.line(
    "speculation: off = plain schedule; adaptive = only on spare sequences; always = forced; final = from the deciding match (width 2); wide = each candidate as its sample finishes (width >= N). Defaults: adaptive final, no stragglers.",
  )
  report.line()

  // 1 + 2: one call at a time.
  const ns = QUICK ? ([4] as const) : ([2, 4, 8] as const)
  const singleConfigs: Array<Config> = [greedy]
  for (const n of ns) {
    singleConfigs.push(
      beam(n, "SPECULATION_OFF"),
      beam(n, "SPECULATION_ADAPTIVE"),
      beam(n, "SPECULATION_ADAPTIVE", WIDE_SPEC),
      beam(n, "SPECULATION_ADAPTIVE", WIDE_STRAGGLERS),
    )
  }
  const FREE: Verdict = "VERDICT_MODE_FREE_TEXT"
  const CHOICE: Verdict = "VERDICT_MODE_CHOICE"
  const ablation: Array<Config> = [
    greedy,
    beam(4, "SPECULATION_OFF", { verdict: FREE }),
    beam(4, "SPECULATION_OFF", { verdict: CHOICE }),
    beam(4, "SPECULATION_ADAPTIVE", { verdict: FREE }),
    beam(4, "SPECULATION_ADAPTIVE", { verdict: FREE, width: WIDE }),
    beam(4, "SPECULATION_OFF", { verdict: FREE, stragglers: true }),
    beam(4, "SPECULATION_ADAPTIVE", { verdict: CHOICE }),
    beam(4, "SPECULATION_ADAPTIVE", { verdict: CHOICE, width: WIDE }),
    beam(4, "SPECULATION_OFF", { verdict: CHOICE, stragglers: true }),
    beam(4, "SPECULATION_ADAPTIVE", { verdict: CHOICE, stragglers: true }),
    beam(4, "SPECULATION_ADAPTIVE", { verdict: CHOICE, width: WIDE, stragglers: true }),
    beam(4, "SPECULATION_ALWAYS", { verdict: CHOICE }),
  ]
  const [single, abl] = yield* withStack(SPEED, (stack) =>
    Effect.all([
      oneAtATime(stack, singleConfigs, SPEED),
      QUICK ? Effect.succeed([]) : oneAtATime(stack, ablation, SPEED),
    ]),
  )
  const greedyLatency = single[0]!.latency
  report.line("1. One call at a time")
  report.table(
    ["config", "median_s", "p90_s", "x GREEDY", "x GREEDY per seed", "GPU-s", "GPU x plain", "extra GPU"],
    singleConfigs.map((config, c) => {
      // Rows per N: off (the plain search), adaptive final (the default), adaptive wide, wide + stragglers.
      const plainGpu = c === 0 ? single[0]!.gpu : single[c - ((c - 1) % 4)]!.gpu
      const m = single[c]!
      return [
        config.label,
        fixed(m.latency),
        fixed(m.p90),
        fixed(m.latency / greedyLatency),
        fixed(m.ratio),
        fixed(m.gpu),
        c === 0 ? "-" : fixed(m.gpu / plainGpu, 3),
        c === 0 ? "-" : percent(m.gpu / plainGpu - 1),
      ]
    }),
  )
  report.line()
  if (QUICK) {
    report.line("--quick: section 1 at N=4 only (the ablation, load and time-scale sections are not run).")
    report.line(machineLine())
    for (const line of profileAssumptions()) report.line(line)
    report.line(`wall time ${fixed((performance.now() - wallStarted) / 1000, 0)} s`)
    console.log(`saved ${report.save()}`)
    return
  }
  report.line(
    "2. Ablation at N=4, one call at a time: the constrained CHOICE verdict (the preset's default), speculation (adaptive, from the final or wide), stragglers, each alone and together",
  )
  // Row 0 is GREEDY, run next to each seed's configs; row 1 the plain search with free-text verdicts.
  const ablationBase = abl[1]!
  report.table(
    ["config", "median_s", "x GREEDY per seed", "x plain free-text", "GPU-s", "GPU x plain free-text"],
    ablation.map((config, c) => [
      config.label,
      fixed(abl[c]!.latency),
      fixed(abl[c]!.ratio),
      fixed(abl[c]!.latency / ablationBase.latency),
      fixed(abl[c]!.gpu),
      fixed(abl[c]!.gpu / ablationBase.gpu, 3),
    ]),
  )
  report.line()

  // 3: saturation, then 50% load.
  report.line(
    `3. Under load: saturation = N=4 from ${SATURATION_CONCURRENCY} closed-loop clients, counted over ${SATURATION_ROUNDS} windows of ${LOAD_WINDOW_S} s wall each per schedule (taking turns, after ${WARM_UP_S} s of warm-up each); 50% load = Poisson arrivals at half the plain N=4 search's saturated throughput.`,
  )
  const load = yield* withStack(SPEED, (stack) =>
    Effect.gen(function* () {
      // The three schedules take turns (ROUNDS windows each), so the machine's other load falls on all alike.
      const satConfigs = [
        beam(4, "SPECULATION_OFF"),
        beam(4, "SPECULATION_ADAPTIVE"),
        beam(4, "SPECULATION_ADAPTIVE", WIDE_SPEC),
      ]
      const windows = satConfigs.map((): Array<{ throughput: number; latency: number; gpu: number }> => [])
      for (let round = 0; round < SATURATION_ROUNDS; round++) {
        for (const [c, config] of satConfigs.entries()) {
          windows[c]!.push(yield* closedLoop(stack, config, SATURATION_CONCURRENCY, LOAD_WINDOW_S, SPEED))
        }
      }
      const pooled = (c: number) => {
        const all = windows[c]!
        const answers = all.reduce((sum, w) => sum + w.throughput, 0) / all.length
        return {
          throughput: answers,
          windows: all.map((w) => w.throughput),
          latency: median(all.map((w) => w.latency)),
          gpu: all.reduce((sum, w) => sum + w.gpu * w.throughput, 0) / Math.max(1e-9, answers * all.length),
        }
      }
      const [plainSat, specSat, wideSat] = [pooled(0), pooled(1), pooled(2)] as const
      const rate = plainSat.throughput / 2
      const half = []
      for (const n of ns) {
        const at = (config: Config) => openLoop(stack, config, rate * (4 / n), HALF_LOAD_WINDOW_S, SPEED)
        const plain = yield* at(beam(n, "SPECULATION_OFF"))
        const spec = yield* at(beam(n, "SPECULATION_ADAPTIVE"))
        const wide = yield* at(beam(n, "SPECULATION_ADAPTIVE", WIDE_SPEC))
        half.push({ n, plain, spec, wide })
      }
      return { plainSat, specSat, wideSat, rate, half }
    }),
  )
  const sat = (label: string, m: typeof load.plainSat) => [
    label,
    fixed(m.throughput, 3),
    fixed(m.throughput / load.plainSat.throughput, 3),
    fixed(m.latency),
    fixed(m.gpu),
    percent(m.gpu / load.plainSat.gpu - 1),
    m.windows.map((w) => fixed(w, 3)).join(" "),
  ]
  report.table(
    ["N=4 at saturation", "answers/s", "x off", "median_s", "GPU-s/answer", "extra GPU", "answers/s per window"],
    [
      sat("spec off", load.plainSat),
      sat("spec adaptive final (default)", load.specSat),
      sat("spec adaptive wide", load.wideSat),
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
    load.half.flatMap(({ n, plain, spec, wide }) => [
      halfRow(`N=${n} spec off`, plain, plain),
      halfRow(`N=${n} spec adaptive final (default)`, spec, plain),
      halfRow(`N=${n} spec adaptive wide`, wide, plain),
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
        beam(4, "SPECULATION_ADAPTIVE", WIDE_SPEC),
        beam(4, "SPECULATION_ADAPTIVE", WIDE_STRAGGLERS),
      ],
      SPEED_CHECK,
    ),
  )
  report.line(
    `4. Time-scale check: N=4 one at a time at speed ${SPEED_CHECK} (real time: the gateway's CPU time counts once, not ${SPEED}x) vs ${SPEED}; x GREEDY per seed`,
  )
  // Rows of section 1 at N=4: off 5, adaptive final 6, adaptive wide 7, wide + stragglers 8.
  // The last column: the default's (adaptive final) GPU-seconds over the plain search's.
  const row = (speed: number, greedyS: number, m: ReadonlyArray<Measured>) => [
    String(speed),
    fixed(greedyS),
    ...m.slice(0, 4).map((x) => fixed(x.ratio)),
    fixed(m[1]!.gpu / m[0]!.gpu, 3),
  ]
  report.table(
    ["speed", "GREEDY_s", "N=4 off", "adaptive final", "adaptive wide", "wide + stragglers", "final GPU x off"],
    [row(SPEED, greedyLatency, single.slice(5, 9)), row(SPEED_CHECK, check[0]!.latency, check.slice(1))],
  )
  report.line()
  report.line(machineLine())
  for (const line of profileAssumptions()) report.line(line)
  report.line(`wall time ${fixed((performance.now() - wallStarted) / 1000, 0)} s`)
  console.log(`saved ${report.save()}`)
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
