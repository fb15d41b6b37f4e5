/**
 * The fleet at scale: gateway processes over simulator processes (H100 profile) on 127.0.0.1, default settings.
 * Prints Reason throughput with 1, 2, 4 and 8 servers and the scaling efficiency; p50/p99 at 50% and 90% of peak
 * load; goodput at 2× overload (admitted latency, refusals and how fast they come); 2 gateway replicas against 1;
 * the routing policies side by side (and per-search affinity on prefix-caching servers); the gateway's CPU per
 * Reason call and per upstream call; speculation off against the default at 90% load. Every figure is a ratio
 * against a baseline measured in this same run. Asserts nothing.
 * Run: node --conditions=@stagebeam/source bench/scaling.ts [--scale 1]  (about 40 minutes)
 *      … bench/scaling.ts --only speculation  (section 5 alone, about 19 minutes)
 *      … bench/scaling.ts --only fleet  (section 1 alone on 1 to 64 servers and the gateway's projected knee, ~14 min)
 *   SCALING_FLEET_SIZES=1,2,4,8,16,32,64 (the fleet section's sizes); SCALING_SIMS_PER_PROCESS=4 (simulated servers
 *   per process in the fleet section: one process each spends its runtime's own CPU — start-up, garbage collector,
 *   idle wakeups — per server, which at 32 servers was most of what the simulators cost).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { makeReasonerClient, type ReasonerClient, type ReasonRequest } from "@stagebeam/proto"
import { Duration, Effect, Fiber, Random } from "effect"
import { benchImage } from "./lib/image.ts"
import { projectedKnee } from "./lib/knee.ts"
import {
  freePort,
  type Proc,
  scrapeGauge,
  startGatewayProcess,
  startSimulatorGroups,
  startSimulatorProcess,
} from "./lib/processes.ts"
import { fixed, makeReport } from "./lib/report.ts"
import { quantile } from "./lib/stats.ts"

const argIndex = process.argv.indexOf("--scale")
/** Multiplies every run's length (0.2 for a quick look). */
const SCALE = argIndex === -1 ? 1 : Number(process.argv[argIndex + 1])
/**
 * Slow enough that this 2-core machine's CPU (shared by all the servers, the gateways and the callers) stays out of
 * the way: at speed 10, 8 servers would need about two cores for the gateway alone (see its CPU per call below).
 * The fleet sizes run in real time (speed 1), the rest on 2 and 4 servers at speed 2.5.
 */
const SCALING = { speed: 1, warmupS: 20 * SCALE, seconds: 90 * SCALE }
const OTHERS = { speed: 2.5, warmupS: 10 * SCALE, seconds: 45 * SCALE }
type Pace = typeof SCALING
const DEADLINE_MS = 60_000
/** Searches each server can run at once: 16 sequences (--max-num-seqs) over N = 4 candidates. */
const SEARCHES_PER_SERVER = 4

/** The fleet section's sizes (SCALING_FLEET_SIZES, comma-separated; the first is the unit of efficiency). */
const FLEET_SIZES = (process.env.SCALING_FLEET_SIZES ?? "1,2,4,8,16,32,64").split(",").map(Number)
/** Simulated servers per process in the fleet section (SCALING_SIMS_PER_PROCESS): see bench/lib/sim-group.ts. */
const SIMS_PER_PROCESS = Number(process.env.SCALING_SIMS_PER_PROCESS ?? 4)
/**
 * `--only speculation`: the peak of 2 servers and section 5 alone, saved to results/scaling-speculation.txt.
 * `--only fleet`: section 1 alone on up to 64 servers (the last past what this 2-core machine runs in real time: the
 * table's machine columns say where it ran out), saved to results/scaling-fleet.txt.
 */
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined
if (ONLY !== undefined && ONLY !== "speculation" && ONLY !== "fleet") {
  console.error(`--only: "${ONLY}" is not a section this benchmark runs alone (it knows: speculation, fleet)`)
  process.exit(2)
}
const report = makeReport(ONLY === undefined ? "scaling" : `scaling-${ONLY}`)
const QUESTION = "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star"
let calls = 0
/**
 * Each call its own question, so prompt prefixes are shared within a search only (as with real traffic), and its own
 * seed, so runs that send the same calls run the same searches (speculation does not change what a seed chooses).
 */
const nextRequest = (): ReasonRequest => ({
  question: `Question ${++calls}. ${QUESTION}`,
  image: { data: benchImage },
  search: { candidatesPerStage: 4, seed: String(calls) },
})

type Sim = Proc & { readonly port: number; readonly url: string }
type Gateway = Proc & { readonly metricsUrl: string }

interface SimStats {
  readonly virtualSeconds: number
  readonly busyGpuSeconds: number
  readonly requests: { readonly finished: number }
  readonly cachedPrefillTokens: number
  readonly prefillTokens: number
}
const statsOf = (sim: Sim) =>
  Effect.promise(
    () =>
      fetch(`${sim.url}/sim/stats`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.json()) as Promise<SimStats>,
  )

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 10 ms). */
const cpuSeconds = (pid: number | "self"): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** CPU seconds every core of the machine has been busy (everyone's processes, this run's and others'), /proc/stat. */
const machineBusySeconds = (): number => {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
  const busy = fields.slice(0, 8).reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0)
  return busy / 100
}
/**
 * Seconds a process's threads have waited on a run queue for a core (the second field of each thread's
 * /proc/<pid>/task/<tid>/schedstat, nanoseconds): CPU the process wanted and the machine did not have.
 */
const runQueueWaitSeconds = (pid: number): number => {
  let ns = 0
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[1])
    } catch {
      // The thread ended while the list was read.
    }
  }
  return ns / 1e9
}
const CORES = readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? 0
/**
 * A window in which the gateway waited for a core, per second it ran, this many times as long as on the smallest
 * fleet (where the machine is all but idle, and the wait is this VM's own wakeup latency) was short of CPU: the
 * machine, not the gateway's own work, set its pace (and its loop lag) there.
 */
const MACHINE_LIMIT_WAIT = 2

interface Outcome {
  readonly startedMs: number
  readonly ms: number
  readonly result: "answered" | "cut short" | string
}

/** One Reason call, timed, by outcome: answered in full, answered cut short, or the failure's status name. */
const call = (client: ReasonerClient, deadlineMs = DEADLINE_MS) =>
  Effect.gen(function* () {
    const startedMs = performance.now()
    const outcome = yield* Effect.result(client.Reason(nextRequest(), { deadline: Duration.millis(deadlineMs) }))
    const ms = performance.now() - startedMs
    const result =
      outcome._tag === "Failure"
        ? outcome.failure.statusName
        : outcome.success.truncatedReason === ""
          ? "answered"
          : "cut short"
    return { startedMs, ms, result } satisfies Outcome
  })

interface Window {
  readonly outcomes: ReadonlyArray<Outcome>
  readonly seconds: number
  readonly gpuBusy: number
  readonly upstreamCalls: ReadonlyArray<number>
  readonly gatewayCpu: number
  /** CPU seconds of the simulator processes (their timing and text models, HTTP). */
  readonly serverCpu: number
  /** CPU seconds of this process: the load generator (gRPC clients, the callers). */
  readonly loadCpu: number
  /** CPU seconds the whole machine was busy (every process, other work on it included). */
  readonly machineCpu: number
  /** Seconds the gateways' threads waited on a run queue for a core. */
  readonly gatewayWait: number
  /** The gateways' event-loop delay p99 (their own gauge, since they started), the worst of them, in ms. */
  readonly loopP99Ms: number
  readonly cacheHit: number
  /** A closed loop's callers (its throughput follows from their mean call time). */
  readonly callers?: number
}

/** What the servers and gateways did between two moments: GPU busy share, upstream calls per server, CPU. */
const measured = (sims: ReadonlyArray<Sim>, gateways: ReadonlyArray<Gateway>) =>
  Effect.gen(function* () {
    const before = yield* Effect.forEach(sims, statsOf)
    const cpuBefore = gateways.map((g) => cpuSeconds(g.child.pid!))
    // Servers may share a process (several to a process): each process counted once.
    const simPids = [...new Set(sims.map((sim) => sim.child.pid!))]
    const simCpuBefore = simPids.map((pid) => cpuSeconds(pid))
    const loadCpuBefore = cpuSeconds("self")
    const machineBefore = machineBusySeconds()
    const waitBefore = gateways.map((g) => runQueueWaitSeconds(g.child.pid!))
    const startedMs = performance.now()
    return Effect.gen(function* () {
      const after = yield* Effect.forEach(sims, statsOf)
      const loops = yield* Effect.forEach(gateways, (gateway) =>
        // A gateway that does not answer its /metrics in time shows as 0 here, not as a failed run.
        Effect.promise(() =>
          scrapeGauge(gateway.metricsUrl, "nodejs_eventloop_delay_p99_seconds").catch(() => undefined),
        ),
      )
      const seconds = (performance.now() - startedMs) / 1000
      const busy = after.map(
        (a, i) => (a.busyGpuSeconds - before[i]!.busyGpuSeconds) / (a.virtualSeconds - before[i]!.virtualSeconds),
      )
      const prefill = after.reduce((s, a, i) => s + a.prefillTokens - before[i]!.prefillTokens, 0)
      const cached = after.reduce((s, a, i) => s + a.cachedPrefillTokens - before[i]!.cachedPrefillTokens, 0)
      return {
        seconds,
        gpuBusy: busy.reduce((s, b) => s + b, 0) / busy.length,
        upstreamCalls: after.map((a, i) => a.requests.finished - before[i]!.requests.finished),
        gatewayCpu: gateways.reduce((s, g, i) => s + cpuSeconds(g.child.pid!) - cpuBefore[i]!, 0),
        serverCpu: simPids.reduce((s, pid, i) => s + cpuSeconds(pid) - simCpuBefore[i]!, 0),
        loadCpu: cpuSeconds("self") - loadCpuBefore,
        machineCpu: machineBusySeconds() - machineBefore,
        gatewayWait: gateways.reduce((s, g, i) => s + runQueueWaitSeconds(g.child.pid!) - waitBefore[i]!, 0),
        cacheHit: prefill + cached === 0 ? 0 : cached / (prefill + cached),
        loopP99Ms: Math.max(0, ...loops.map((loop) => (loop ?? 0) * 1000)),
      }
    })
  })

/** Closed loop: `concurrency` callers spread over the clients, each calling again as soon as it has an answer. */
const closedLoop = (
  clients: ReadonlyArray<ReasonerClient>,
  concurrency: number,
  sims: ReadonlyArray<Sim>,
  gateways: ReadonlyArray<Gateway>,
  pace: Pace,
) =>
  Effect.gen(function* () {
    const outcomes: Array<Outcome> = []
    let measuring = false
    const caller = (i: number) =>
      call(clients[i % clients.length]!).pipe(
        Effect.tap((outcome) => Effect.sync(() => measuring && outcomes.push(outcome))),
        Effect.forever,
      )
    const fibers = yield* Effect.forEach(
      Array.from({ length: concurrency }, (_, i) => i),
      (i) => Effect.forkChild(caller(i)),
    )
    yield* Effect.sleep(Duration.seconds(pace.warmupS))
    const stop = yield* measured(sims, gateways)
    measuring = true
    yield* Effect.sleep(Duration.seconds(pace.seconds))
    measuring = false
    const window = yield* stop
    yield* Effect.forEach(fibers, Fiber.interrupt, { discard: true })
    // Calls that ended inside the window count.
    return { ...window, outcomes, callers: concurrency } satisfies Window
  })

/**
 * Open loop: Poisson arrivals at `rate` calls per second for `seconds` (exactly rate × seconds of them), each call on
 * its own with `deadlineMs`.
 * The last two thirds of the arrivals are the steady state: the answers that came in it (goodput) and the calls that
 * started in it (latencies, refusals).
 */
const openLoop = (
  client: ReasonerClient,
  rate: number,
  seconds: number,
  deadlineMs: number,
  sims: ReadonlyArray<Sim>,
  gateways: ReadonlyArray<Gateway>,
) =>
  Effect.gen(function* () {
    const outcomes: Array<Outcome> = []
    const stop = yield* measured(sims, gateways)
    const start = performance.now()
    const end = start + seconds * 1000
    const steadyFrom = start + (seconds * 1000) / 3
    // A Poisson process given its count: rate × seconds arrivals at uniform random times, each call sent at its own
    // time from the start (no drift from sleeps adding up), so the load offered is the rate asked for.
    const count = Math.round(rate * seconds)
    const times = (yield* Effect.forEach(Array.from({ length: count }), () => Random.next)).map(
      (u) => u * seconds * 1000,
    )
    const fibers = []
    for (const at of times.toSorted((a, b) => a - b)) {
      yield* Effect.sleep(Duration.millis(Math.max(0, start + at - performance.now())))
      fibers.push(
        yield* Effect.forkChild(Effect.tap(call(client, deadlineMs), (o) => Effect.sync(() => outcomes.push(o)))),
      )
    }
    yield* Effect.forEach(fibers, Fiber.await, { discard: true })
    const endedIn = (o: Outcome) => o.startedMs + o.ms >= steadyFrom && o.startedMs + o.ms <= end
    return {
      window: { ...(yield* stop), seconds, outcomes },
      goodput: outcomes.filter((o) => o.result === "answered" && endedIn(o)).length / ((end - steadyFrom) / 1000),
      started: outcomes.filter((o) => o.startedMs >= steadyFrom),
    }
  })

const answered = (w: Window) => w.outcomes.filter((o) => o.result === "answered")
const goodput = (w: Window) => answered(w).length / w.seconds
/**
 * A closed loop's throughput by Little's law: callers ÷ their mean time per call (every caller always has a call
 * running), which does not depend on where the window cuts calls in flight as counting answers in it does.
 */
const rate = (w: Window) => {
  if (w.callers === undefined || w.outcomes.length === 0) return goodput(w)
  const meanSeconds = w.outcomes.reduce((sum, o) => sum + o.ms, 0) / w.outcomes.length / 1000
  return ((w.callers / meanSeconds) * answered(w).length) / w.outcomes.length
}
const latencies = (outcomes: ReadonlyArray<Outcome>) => [...outcomes.map((o) => o.ms)].sort((a, b) => a - b)
const seconds = (ms: number) => fixed(ms / 1000, 2)
const failures = (w: Window) => {
  const counts = new Map<string, number>()
  for (const o of w.outcomes) if (o.result !== "answered") counts.set(o.result, (counts.get(o.result) ?? 0) + 1)
  return [...counts].map(([name, n]) => `${name}×${n}`).join(" ") || "-"
}
const imbalance = (calls: ReadonlyArray<number>) => fixed(Math.max(...calls) / Math.max(1, Math.min(...calls)))

/** `count` simulator processes, `gatewayCount` gateway processes over them, for the length of `use`. */
const withFleet = <A, E>(
  options: {
    readonly servers: number
    readonly gateways?: number
    readonly env?: Record<string, string>
    readonly simArgs?: ReadonlyArray<string>
    /** Simulated servers per process (bench/lib/sim-group.ts; no simArgs then), default 1. */
    readonly perProcess?: number
    readonly pace: Pace
  },
  use: (fleet: {
    readonly sims: ReadonlyArray<Sim>
    readonly gateways: ReadonlyArray<Gateway>
    readonly clients: ReadonlyArray<ReasonerClient>
  }) => Effect.Effect<A, E>,
) =>
  Effect.acquireUseRelease(
    Effect.gen(function* () {
      const ports = yield* Effect.promise(() => Promise.all(Array.from({ length: options.servers }, freePort)))
      const seeds = ports.map((_, i) => i + 1)
      const sims = yield* Effect.promise(() =>
        (options.perProcess ?? 1) > 1
          ? startSimulatorGroups(ports, options.pace.speed, options.perProcess!, seeds)
          : Promise.all(
              ports.map((port, i) =>
                startSimulatorProcess(port, options.pace.speed, [
                  "--seed",
                  String(seeds[i]),
                  ...(options.simArgs ?? []),
                ]),
              ),
            ),
      )
      const endpoints = sims.map((sim) => sim.url).join(",")
      const gateways = yield* Effect.promise(() =>
        Promise.all(
          Array.from({ length: options.gateways ?? 1 }, () =>
            startGatewayProcess({ STAGEBEAM_ENDPOINTS: endpoints, ...options.env }),
          ),
        ),
      )
      return { sims, gateways }
    }),
    ({ sims, gateways }) =>
      Effect.gen(function* () {
        const clients = yield* Effect.forEach(gateways, (gateway) =>
          makeReasonerClient({ address: gateway.address, defaultDeadline: Duration.millis(DEADLINE_MS) }),
        )
        // Let the first health checks and load reports come in.
        yield* Effect.sleep("2 seconds")
        return yield* use({ sims, gateways, clients })
      }),
    ({ sims, gateways }) =>
      Effect.promise(async () => {
        for (const gateway of gateways) gateway.child.kill("SIGKILL")
        for (const sim of sims) sim.child.kill("SIGKILL")
        await Promise.all([...gateways, ...sims].map((p) => p.exited))
      }),
  )

/** One row of figures of a closed-loop window: throughput, GPU busy, latency, balance, CPU. */
const closedRow = (window: Window, baseline: number) => {
  const sorted = latencies(answered(window))
  const upstream = window.upstreamCalls.reduce((sum, n) => sum + n, 0)
  return [
    fixed(rate(window)),
    fixed(rate(window) / baseline),
    `${fixed(window.gpuBusy * 100, 0)}%`,
    seconds(quantile(sorted, 0.5)),
    seconds(quantile(sorted, 0.99)),
    imbalance(window.upstreamCalls),
    fixed((window.gatewayCpu * 1000) / Math.max(1, answered(window).length), 0),
    fixed((window.gatewayCpu * 1000) / Math.max(1, upstream), 1),
    fixed((window.serverCpu * 1000) / Math.max(1, upstream), 1),
    fixed(window.loopP99Ms, 0),
    fixed((window.gatewayCpu + window.serverCpu + window.loadCpu) / window.seconds, 2),
    `${fixed(window.machineCpu / window.seconds, 2)}/${CORES}`,
    fixed((window.gatewayWait * 1000) / window.seconds, 0),
    failures(window),
  ]
}
const CLOSED_HEADER = [
  "answers/s",
  "ratio",
  "GPU busy",
  "p50 s",
  "p99 s",
  "calls max/min",
  "gw CPU ms/answer",
  "gw CPU ms/upstream",
  "sim CPU ms/upstream",
  "gw loop p99 ms",
  "run's CPU cores",
  "machine busy cores",
  "gw waited for CPU ms/s",
  "not answered",
]

type OpenRun = Effect.Success<ReturnType<typeof openLoop>>

/** One row of figures of an open-loop run's steady state, against the closed loop's peak. */
const openRow = (run: OpenRun, peak: number) => {
  const window = { ...run.window, outcomes: run.started }
  const ok = latencies(answered(window))
  const refused = latencies(window.outcomes.filter((o) => o.result === "RESOURCE_EXHAUSTED"))
  return [
    String(run.window.outcomes.length),
    fixed(run.goodput / peak),
    seconds(quantile(ok, 0.5)),
    seconds(quantile(ok, 0.99)),
    fixed(quantile(ok, 0.99) / quantile(ok, 0.5)),
    `${fixed((refused.length / Math.max(1, window.outcomes.length)) * 100, 0)}%`,
    refused.length === 0 ? "-" : fixed(quantile(refused, 0.5), 1),
    refused.length === 0 ? "-" : fixed(quantile(refused, 0.99), 1),
    failures(window),
  ]
}
const OPEN_HEADER = [
  "calls",
  "goodput ÷ peak",
  "p50 s",
  "p99 s",
  "p99 ÷ p50",
  "refused",
  "refusal p50 ms",
  "refusal p99 ms",
  "not answered",
]

/** Callers of a closed loop: each server's searches of N=4 (16 sequences), and 2 more waiting. */
const callersFor = (servers: number) => servers * (SEARCHES_PER_SERVER + 2)

const closedRun = (options: Parameters<typeof withFleet>[0]) =>
  withFleet(options, (fleet) =>
    closedLoop(fleet.clients, callersFor(options.servers), fleet.sims, fleet.gateways, options.pace),
  )

const OPEN_SECONDS = OTHERS.seconds * 2

/** The closed-loop peak of 2 servers, which the open-loop runs offer a share of. */
const peakOfTwo = Effect.gen(function* () {
  const peakWindow = yield* closedRun({ servers: 2, pace: OTHERS })
  // A deadline a few times a search's own time, as a service's callers would set: overload shows as refusals and
  // calls cut short within seconds, not as a queue that takes minutes to fill.
  const deadlineMs = Math.round(4 * quantile(latencies(answered(peakWindow)), 0.5))
  return { peakWindow, peak: rate(peakWindow), deadlineMs }
})

/**
 * 5. Speculation at 90% of the peak: the default (adaptive) against off, on servers that schedule first come first
 * served and on ones that schedule by priority (where speculative calls step aside). Each run gets the same requests
 * and the same arrival times (seeded); two rounds, to show how far a run moves on its own.
 */
const speculationAtLoad = (peak: number, deadlineMs: number) =>
  Effect.gen(function* () {
    const off = { STAGEBEAM_CONFIG: settingsFile("speculation-off", 'search:\n  speculation: "off"\n') }
    // A reserve of 4 sequences per server (of 16) leaves speculation to a fleet well short of full.
    const reserve = { STAGEBEAM_CONFIG: settingsFile("speculation-reserve", "search:\n  speculationReserve: 4\n") }
    const arms = [
      ["FCFS", "adaptive (default)", {}, []],
      ["FCFS", "off", off, []],
      ["priority", "adaptive (default)", {}, ["--scheduling-policy", "priority"]],
      ["priority", "off", off, ["--scheduling-policy", "priority"]],
      ["priority", "adaptive, reserve 4", reserve, ["--scheduling-policy", "priority"]],
    ] as const
    const rows: Array<ReadonlyArray<string>> = []
    const p50: Record<string, Array<number>> = {}
    for (const round of [1, 2]) {
      for (const [servers, speculation, env, simArgs] of arms) {
        calls = 0
        const run = yield* withFleet({ servers: 2, env, simArgs, pace: OTHERS }, ({ sims, gateways, clients }) =>
          openLoop(clients[0]!, 0.9 * peak, OPEN_SECONDS, deadlineMs, sims, gateways).pipe(Random.withSeed(round)),
        )
        rows.push([servers, speculation, String(round), ...openRow(run, peak)])
        const key = `${servers} ${speculation}`
        const median = quantile(latencies(answered({ ...run.window, outcomes: run.started })), 0.5)
        p50[key] = [...(p50[key] ?? []), median]
        console.log(`  ${key}, round ${round}: p50 ${seconds(median)} s`)
      }
    }
    report.line()
    report.line(
      `Speculation at 90% of the peak of 2 servers: ${Math.round(0.9 * peak * OPEN_SECONDS)} calls in ${OPEN_SECONDS} ` +
        `s (${fixed(0.9 * peak)} calls/s), speed ${OTHERS.speed}, deadline ${seconds(deadlineMs)} s; the same calls ` +
        `(questions and seeds) at the same times in every run of a round, other times in the other round:`,
    )
    report.table(["servers", "speculation", "round", ...OPEN_HEADER], rows)
    const ratio = (servers: string, speculation: string) =>
      [0, 1]
        .map((round) => fixed(p50[`${servers} ${speculation}`]![round]! / p50[`${servers} off`]![round]!))
        .join(", ")
    report.line(
      `p50 ÷ off, rounds 1 and 2: the default on FCFS ${ratio("FCFS", "adaptive (default)")}, on priority ` +
        `${ratio("priority", "adaptive (default)")}; reserve 4 on priority ${ratio("priority", "adaptive, reserve 4")}.`,
    )
  })

/**
 * 1. Throughput by fleet size, and the gateway's projected knee: how many real-time servers one dedicated core
 * would keep busy, from the gateway CPU per answer measured on the largest fleet (1 core-second ÷ that CPU ÷ one
 * server's answers/s). A projection from a measured figure, not a measured run.
 */
const fleetSizes = (sizes: ReadonlyArray<number>) =>
  Effect.gen(function* () {
    const scaling: Array<readonly [number, Window]> = []
    for (const servers of sizes) {
      const window = yield* closedRun({ servers, pace: SCALING, perProcess: SIMS_PER_PROCESS })
      scaling.push([servers, window])
      console.log(`  ${servers} servers: ${fixed(rate(window))} answers/s`)
    }
    // The sizes start at 1 server: its answers/s is the unit of the efficiency and of the knee.
    const one = rate(scaling[0]![1])
    report.line()
    report.line(
      `Throughput by fleet size, speed ${SCALING.speed}, ${SCALING.warmupS} s warm-up, ${SCALING.seconds} s measured ` +
        `(ratio = scaling efficiency: answers/s ÷ (servers × answers/s of 1 server)):`,
    )
    report.table(
      ["servers", ...CLOSED_HEADER],
      scaling.map(([servers, window]) => [String(servers), ...closedRow(window, servers * one)]),
    )
    report.line(
      `Simulated servers run ${SIMS_PER_PROCESS} to a process (bench/lib/sim-group.ts; each its own engine, port and ` +
        `state, as if started alone). Run's CPU cores: the gateway, the simulators and this load generator, CPU seconds per second; machine busy ` +
        `cores: every process on the machine (/proc/stat), other work included; gw waited for CPU: the gateway's threads ` +
        `on a run queue, wanting a core (/proc/<pid>/task/*/schedstat), ms per second.`,
    )
    const waitPerRun = (w: Window) => w.gatewayWait / Math.max(1e-9, w.gatewayCpu)
    const unit = waitPerRun(scaling[0]![1])
    const limited = scaling.filter(([, w]) => waitPerRun(w) >= MACHINE_LIMIT_WAIT * unit)
    report.line(
      `The gateway waited for a core ${fixed(unit, 2)} s per second it ran on ${scaling[0]![0]} server(s), ` +
        `${scaling.map(([n, w]) => `${fixed(waitPerRun(w), 2)} at ${n}`).join(", ")}. ` +
        (limited.length === 0
          ? `It never reached ${MACHINE_LIMIT_WAIT}× the smallest fleet's: the machine was not the limit at any size.`
          : `The machine, not the gateway, was the limit at ${limited.map(([n]) => n).join(", ")} servers: there ` +
            `the gateway waited ${MACHINE_LIMIT_WAIT}× or more as long per second it ran as on the smallest fleet ` +
            `(${CORES} cores shared by the simulators, the load generator, the gateway and any other work), so ` +
            `efficiency and loop lag at those sizes are the machine's; the gateway's own CPU there: ${limited
              .map(([n, w]) => `${fixed(w.gatewayCpu / w.seconds, 2)} of a core at ${n}`)
              .join(", ")}.`),
    )
    const [largest, window] = scaling.at(-1)!
    const cpuPerAnswer = window.gatewayCpu / Math.max(1, answered(window).length)
    report.line(
      `Projected knee (not measured): at ${largest} servers the gateway spent ${fixed(cpuPerAnswer * 1000, 0)} ms of ` +
        `CPU per answer, so one dedicated core would serve ${fixed(1 / cpuPerAnswer, 1)} answers/s, the work of ` +
        `${fixed(projectedKnee({ answersPerServer: one, cpuPerAnswerS: cpuPerAnswer }), 0)} real-time servers at ${fixed(one, 2)} answers/s each.`,
    )
  })

const onlySpeculation = Effect.gen(function* () {
  const { peak, deadlineMs } = yield* peakOfTwo
  report.line(`2 servers, closed-loop peak ${fixed(peak)} answers/s (STAGE_BEAM N=4 with a PNG, H100 profile).`)
  yield* speculationAtLoad(peak, deadlineMs)
  report.line()
  report.line(`Saved to ${report.save()}`)
})

const program = Effect.scoped(
  Effect.gen(function* () {
    const cores = readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? 0
    report.line(
      `Gateway processes (default settings) over simulator processes (H100 profile), 127.0.0.1, on ${cores} CPU cores. ` +
        `Reason = STAGE_BEAM N=4 with a PNG, client deadline ${DEADLINE_MS / 1000} s. Closed loop: ` +
        `${SEARCHES_PER_SERVER + 2} callers per server (the ${SEARCHES_PER_SERVER} searches of N=4 a server runs at ` +
        `once, and 2 waiting), calling again as soon as answered; its answers/s = callers ÷ mean call time (Little's law) × the share answered in full. GPU busy: the servers' modelled GPU time ÷ their time. ` +
        `CPU: user + system seconds of the processes (/proc), per answer and per upstream HTTP call.`,
    )

    yield* fleetSizes([1, 2, 4, 8])

    // 2. Latency at 50% and 90% of the peak of 2 servers, and goodput at 2× it.
    const { peakWindow, peak, deadlineMs } = yield* peakOfTwo
    report.line()
    report.line(
      `Load on 2 servers, speed ${OTHERS.speed}: peak = ${fixed(peak)} answers/s (closed loop, p50 ` +
        `${seconds(quantile(latencies(answered(peakWindow)), 0.5))} s); then Poisson arrivals at a share of it for ` +
        `${OPEN_SECONDS} s each, client deadline ${seconds(deadlineMs)} s (4× that p50). Steady state = the last two ` +
        `thirds: goodput = answers not cut short that came in it ÷ its length ÷ peak; latencies and refusals ` +
        `(RESOURCE_EXHAUSTED) of the calls that started in it:`,
    )
    const loads: Array<ReadonlyArray<string>> = []
    for (const share of [0.5, 0.9, 2]) {
      const run = yield* withFleet({ servers: 2, pace: OTHERS }, ({ sims, gateways, clients }) =>
        openLoop(clients[0]!, share * peak, OPEN_SECONDS, deadlineMs, sims, gateways),
      )
      loads.push([`${share * 100}%`, ...openRow(run, peak)])
    }
    report.table(["offered", ...OPEN_HEADER], loads)

    // 3. Two gateway replicas against one, on 4 servers.
    const single = yield* closedRun({ servers: 4, pace: OTHERS })
    const double = yield* closedRun({ servers: 4, gateways: 2, pace: OTHERS })
    report.line()
    report.line(
      `Gateway replicas on 4 servers, speed ${OTHERS.speed}, ${OTHERS.warmupS} s warm-up, ${OTHERS.seconds} s measured ` +
        `(the same callers spread over the replicas; ratio = ÷ 1 replica):`,
    )
    report.table(
      ["replicas", ...CLOSED_HEADER],
      [
        ["1", ...closedRow(single, rate(single))],
        ["2", ...closedRow(double, rate(single))],
      ],
    )

    // 4. Routing policies side by side on 4 servers; affinity on servers with prefix caching (vLLM 0.12 behaviour).
    const policies: ReadonlyArray<readonly [string, Record<string, string>, ReadonlyArray<string>]> = [
      ["p2c", { STAGEBEAM_ROUTING: "p2c" }, []],
      ["round-robin", { STAGEBEAM_ROUTING: "round-robin" }, []],
      ["least-loaded, prefix caching", {}, ["--behaviour", "vllm-0.12"]],
      [
        "+ affinity, prefix caching",
        { STAGEBEAM_CONFIG: settingsFile("affinity", "upstream:\n  affinity: true\n") },
        ["--behaviour", "vllm-0.12"],
      ],
    ]
    const rows: Array<ReadonlyArray<string>> = [
      ["least-loaded (default)", ...closedRow(single, rate(single)), `${fixed(single.cacheHit * 100, 0)}%`],
    ]
    const caching: Array<number> = []
    for (const [name, env, simArgs] of policies) {
      const window = yield* closedRun({ servers: 4, env, simArgs, pace: OTHERS })
      rows.push([name, ...closedRow(window, rate(single)), `${fixed(window.cacheHit * 100, 0)}%`])
      if (simArgs.length > 0) caching.push(rate(window))
    }
    report.line()
    report.line(
      `Routing policies on 4 servers, as above (ratio = ÷ least-loaded). The last two run the servers as vLLM 0.12 ` +
        `(V1 engine, prefix caching): affinity keeps a search on one server, so its image and question are prefilled ` +
        `once; + affinity ÷ least-loaded on the same servers: ${fixed((caching[1] ?? 0) / (caching[0] ?? 1))}.`,
    )
    report.table(["routing", ...CLOSED_HEADER, "prefill cached"], rows)

    yield* speculationAtLoad(peak, deadlineMs)
    report.line()
    report.line(`Saved to ${report.save()}`)
  }),
)

/** A settings file, for the settings that have no environment variable. */
const settingsFile = (name: string, yaml: string): string => {
  const path = `/tmp/stagebeam-scaling-${name}-${process.pid}.yaml`
  writeFileSync(path, yaml)
  return path
}

/** Section 1 alone, on up to 64 servers (the sizes this machine can run in real time, and one past them). */
const onlyFleet = Effect.gen(function* () {
  report.line(
    "Gateway processes (default settings) over simulator processes (H100 profile), 127.0.0.1. Reason = STAGE_BEAM " +
      "N=4 with a PNG; closed loop as in results/scaling.txt.",
  )
  yield* fleetSizes(FLEET_SIZES)
  report.line()
  report.line(`Saved to ${report.save()}`)
})

const chosen =
  ONLY === "speculation" ? Effect.scoped(onlySpeculation) : ONLY === "fleet" ? Effect.scoped(onlyFleet) : program
Effect.runPromise(chosen).catch((error) => {
  console.error(error)
  process.exit(1)
})
