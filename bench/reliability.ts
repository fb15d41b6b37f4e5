/**
 * The reliability battery: a gateway process over four simulator processes, each fault under load — SIGKILL,
 * SIGSTOP, 5xx, connection resets, malformed bodies, stalls, hangs, a SIGTERM drain — then floods of large images
 * and a soak that tracks the gateway's memory and descriptors. Prints tried/succeeded/failed per fault; asserts
 * nothing. Run: node --conditions=@stagebeam/source bench/reliability.ts [--soak-minutes 10]
 *
 * `--faults-only` runs only the first section, the faults issue #22 names: three simulator processes under default
 * settings, one SIGSTOPped mid-load (and left stopped until the load is over), then 10% HTTP 500 on every server —
 * each against a fault-free baseline run in the same script.
 */
import { writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { makeReasonerClient, type ReasonerClient, type ReasonRequest } from "@stagebeam/proto"
import { Effect } from "effect"
import { benchImage, noisePng } from "./lib/image.ts"
import {
  freePort,
  type Proc,
  sampleProcess,
  scrapeGauge,
  startGatewayProcess,
  startSimulatorProcess,
} from "./lib/processes.ts"
import { fixed, makeReport } from "./lib/report.ts"
import { quantile } from "./lib/stats.ts"

const SPEED = 20
const SERVERS = 4
const CALLS = 32
const CONCURRENCY = 8
const DEADLINE = "60 seconds"
const argIndex = process.argv.indexOf("--soak-minutes")
const SOAK_MINUTES = argIndex === -1 ? 10 : Number(process.argv[argIndex + 1])
const FAULTS_ONLY = process.argv.includes("--faults-only")

const report = makeReport(FAULTS_ONLY ? "reliability-faults" : "reliability")
const request: ReasonRequest = {
  question: "Which shape is shown in the image?\nA. circle\nB. square\nC. triangle\nD. star",
  image: { data: benchImage },
  search: { candidatesPerStage: 4 },
}

interface Tally {
  tried: number
  ok: number
  cutShort: number
  failed: Map<string, number>
  latencies: Array<number>
}

const tally = (): Tally => ({ tried: 0, ok: 0, cutShort: 0, failed: new Map(), latencies: [] })

/** `calls` Reason calls, `concurrency` at a time, tallied by outcome. */
const load = (client: ReasonerClient, calls: number, concurrency: number, body: ReasonRequest = request) =>
  Effect.gen(function* () {
    const result = tally()
    yield* Effect.forEach(
      Array.from({ length: calls }, (_, i) => i),
      () =>
        Effect.gen(function* () {
          const started = performance.now()
          result.tried++
          const outcome = yield* Effect.result(client.Reason(body))
          result.latencies.push(performance.now() - started)
          if (outcome._tag === "Success") {
            result.ok++
            if (outcome.success.truncatedReason !== "") result.cutShort++
          } else {
            const name = outcome.failure.statusName
            result.failed.set(name, (result.failed.get(name) ?? 0) + 1)
          }
        }),
      { concurrency, discard: true },
    )
    return result
  })

const row = (fault: string, result: Tally): ReadonlyArray<string> => {
  const failed = [...result.failed.values()].reduce((sum, n) => sum + n, 0)
  const sorted = [...result.latencies].sort((a, b) => a - b)
  return [
    fault,
    String(result.tried),
    String(result.ok),
    String(result.cutShort),
    String(failed),
    [...result.failed].map(([status, n]) => `${status}×${n}`).join(" ") || "-",
    fixed(quantile(sorted, 0.5) / 1000, 1),
    fixed(quantile(sorted, 0.99) / 1000, 1),
  ]
}

const setFaults = (url: string, faults: object) =>
  Effect.promise(() =>
    fetch(`${url}/sim/faults`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(faults),
    }),
  )

type Sim = Proc & { readonly port: number; readonly url: string }

/**
 * The faults of issue #22 with its numbers: 3 servers, STAGE_BEAM N=4, 6 calls at a time; one server SIGSTOPped a
 * second into the load and kept stopped until the load ends; 10% of chat requests answered HTTP 500 on every server.
 * "Lost" = failed; "cut short" = answered with the best so far. Latencies against the fault-free run just before.
 */
const hostileFaults = Effect.gen(function* () {
  const servers = 3
  const calls = 24
  const concurrency = 6
  const ports = yield* Effect.promise(() => Promise.all(Array.from({ length: servers }, freePort)))
  const sims: Array<Sim> = yield* Effect.promise(() =>
    Promise.all(ports.map((port) => startSimulatorProcess(port, SPEED))),
  )
  const gateway = yield* Effect.promise(() =>
    startGatewayProcess({ STAGEBEAM_ENDPOINTS: sims.map((sim) => sim.url).join(",") }),
  )
  const client = yield* makeReasonerClient({ address: gateway.address, defaultDeadline: DEADLINE })
  report.line(
    `Faults of issue #22: gateway process (default settings) over ${servers} simulator processes (speed ${SPEED}), ` +
      `${calls} STAGE_BEAM N=4 calls, ${concurrency} at a time, client deadline ${DEADLINE}.`,
  )
  report.line(
    "Assumes: a SIGSTOPped vllm-sim keeps its connections open and answers nothing (as a stopped or wedged vLLM " +
      "process); its 500s are vLLM's JSON error bodies. Ratios are against the baseline of the same run.",
  )
  const rows: Array<ReadonlyArray<string>> = []
  yield* load(client, 6, 6)
  const baseline = yield* load(client, calls, concurrency)
  const p50 = (result: Tally) =>
    quantile(
      [...result.latencies].sort((a, b) => a - b),
      0.5,
    )
  const p99 = (result: Tally) =>
    quantile(
      [...result.latencies].sort((a, b) => a - b),
      0.99,
    )
  const withRatio = (fault: string, result: Tally) => [
    ...row(fault, result),
    fixed(p50(result) / p50(baseline)),
    fixed(p99(result) / p99(baseline)),
  ]
  rows.push(withRatio("none (baseline)", baseline))
  {
    const stopped = sims[1]!
    const pause = Effect.gen(function* () {
      yield* Effect.sleep("1 second")
      stopped.child.kill("SIGSTOP")
    })
    const [result] = yield* Effect.all([load(client, calls, concurrency), pause], { concurrency: 2 })
    stopped.child.kill("SIGCONT")
    rows.push(withRatio("SIGSTOP 1 of 3 mid-load (stopped to the end)", result))
  }
  // The stopped server back in rotation before the next fault.
  yield* Effect.sleep("15 seconds")
  yield* Effect.forEach(sims, (sim) => setFaults(sim.url, { errorRate: 0.1, errorStatus: 500 }), { discard: true })
  rows.push(withRatio("HTTP 500 10% on every server", yield* load(client, 36, concurrency)))
  yield* Effect.forEach(sims, (sim) => setFaults(sim.url, {}), { discard: true })
  report.table(
    ["fault", "tried", "succeeded", "cut short", "failed", "failures", "p50 s", "p99 s", "p50 ×", "p99 ×"],
    rows,
  )
  report.line()
  gateway.child.kill("SIGTERM")
  yield* Effect.promise(() => gateway.exited)
  // The gateway's log, for looking into a lost or slow call.
  if (process.env.RELIABILITY_LOG !== undefined) writeFileSync(process.env.RELIABILITY_LOG, gateway.output())
  for (const sim of sims) sim.child.kill("SIGKILL")
})

const program = Effect.gen(function* () {
  yield* hostileFaults
  if (FAULTS_ONLY) return
  const ports = yield* Effect.promise(() => Promise.all(Array.from({ length: SERVERS }, freePort)))
  const sims: Array<Sim> = yield* Effect.promise(() =>
    Promise.all(ports.map((port) => startSimulatorProcess(port, SPEED))),
  )
  const endpoints = sims.map((sim) => sim.url).join(",")
  const gateway = yield* Effect.promise(() => startGatewayProcess({ STAGEBEAM_ENDPOINTS: endpoints }))
  const client = yield* makeReasonerClient({ address: gateway.address, defaultDeadline: DEADLINE })
  report.line(
    `Gateway process (default settings) over ${SERVERS} simulator processes (H100 profile, speed ${SPEED}), 127.0.0.1. ` +
      `Each fault: ${CALLS} STAGE_BEAM N=4 calls, ${CONCURRENCY} at a time, client deadline ${DEADLINE}. ` +
      `"cut short" calls answered with the best so far (truncated_reason set).`,
  )
  const rows: Array<ReadonlyArray<string>> = []
  const clearAll = Effect.forEach(sims, (sim) => setFaults(sim.url, {}), { discard: true })

  rows.push(row("none", yield* load(client, CALLS, CONCURRENCY)))

  // SIGKILL one server a second into the load; it comes back on the same port 5 s later.
  {
    const victim = sims[0]!
    const killed = Effect.gen(function* () {
      yield* Effect.sleep("1 second")
      victim.child.kill("SIGKILL")
      yield* Effect.promise(() => victim.exited)
      yield* Effect.sleep("5 seconds")
      sims[0] = yield* Effect.promise(() => startSimulatorProcess(victim.port, SPEED))
    })
    const [result] = yield* Effect.all([load(client, CALLS, CONCURRENCY), killed], { concurrency: 2 })
    rows.push(row("SIGKILL 1 of 4 (back after 5 s)", result))
  }
  // SIGSTOP one server for 10 s.
  {
    const stopped = sims[1]!
    const pause = Effect.gen(function* () {
      yield* Effect.sleep("1 second")
      stopped.child.kill("SIGSTOP")
      yield* Effect.sleep("10 seconds")
      stopped.child.kill("SIGCONT")
    })
    const [result] = yield* Effect.all([load(client, CALLS, CONCURRENCY), pause], { concurrency: 2 })
    rows.push(row("SIGSTOP 1 of 4 for 10 s", result))
  }
  for (const [fault, faults, where] of [
    ["5xx 10% on every server", { errorRate: 0.1, errorStatus: 503 }, "all"],
    ["connection resets 10% on every server", { resetRate: 0.1 }, "all"],
    ["malformed 200 bodies 10% on every server", { malformedRate: 0.1 }, "all"],
    ["stalls 5% on 1 server", { stallRate: 0.05, stallAfterTokens: 5 }, "one"],
    ["hangs 5% on 1 server", { hangRate: 0.05 }, "one"],
  ] as const) {
    yield* Effect.forEach(where === "all" ? sims : [sims[2]!], (sim) => setFaults(sim.url, faults), { discard: true })
    rows.push(row(fault, yield* load(client, CALLS, CONCURRENCY)))
    yield* clearAll
  }

  // SIGTERM the gateway with calls in flight: the drain lets them finish.
  {
    const draining = Effect.gen(function* () {
      yield* Effect.sleep("1 second")
      gateway.child.kill("SIGTERM")
    })
    const [result] = yield* Effect.all([load(client, CONCURRENCY, CONCURRENCY), draining], { concurrency: 2 })
    const code = yield* Effect.promise(() => gateway.exited)
    rows.push(row(`SIGTERM drain (${CONCURRENCY} in flight; exit code ${code})`, result))
  }
  report.table(["fault", "tried", "succeeded", "cut short", "failed", "failures", "p50 s", "p99 s"], rows)

  yield* imageFloods(endpoints)
  yield* soak(endpoints)
  for (const sim of sims) sim.child.kill("SIGKILL")
})

/** 40 concurrent 15 MB images, and 300 concurrent image URLs, against a fresh gateway with default settings. */
const imageFloods = (endpoints: string) =>
  Effect.gen(function* () {
    const gateway = yield* Effect.promise(() =>
      startGatewayProcess({ STAGEBEAM_ENDPOINTS: endpoints, STAGEBEAM_IMAGE_ALLOWED_NETWORKS: "127.0.0.1" }),
    )
    const client = yield* makeReasonerClient({
      address: gateway.address,
      defaultDeadline: DEADLINE,
      grpcOptions: { "grpc.max_send_message_length": 64 * 1024 * 1024 },
    })
    const pid = gateway.child.pid!
    yield* Effect.sleep("2 seconds")
    const idle = sampleProcess(pid)
    const big = noisePng(2236, 2236)
    const flood = yield* load(client, 40, 40, {
      ...request,
      image: { data: big },
      search: { strategy: "STRATEGY_GREEDY" },
    })
    const peak = sampleProcess(pid)
    yield* Effect.sleep("5 seconds")
    const after = sampleProcess(pid)
    report.line()
    report.line(
      `Image flood: 40 concurrent calls, each a ${(big.length / 1e6).toFixed(1)} MB PNG (GREEDY), default settings ` +
        `(admission.maxHeldBytes 256 MiB, images.maxConcurrent 4).`,
    )
    report.table(
      ["gateway RSS", "MB", "× idle"],
      [
        ["idle", fixed(idle.rss / 1e6, 0), "1.00"],
        ["peak (VmHWM)", fixed(peak.peakRss / 1e6, 0), fixed(peak.peakRss / idle.rss)],
        ["5 s after", fixed(after.rss / 1e6, 0), fixed(after.rss / idle.rss)],
      ],
    )
    report.table(
      ["calls", "tried", "succeeded", "cut short", "failed", "failures", "p50 s", "p99 s"],
      [row("40 × 15 MB", flood)],
    )

    // 300 concurrent calls with an image URL: how many fetches run at once, and when.
    let active = 0
    let most = 0
    let fetches = 0
    const png = benchImage
    const web = createServer((_request, response) => {
      active++
      fetches++
      most = Math.max(most, active)
      setTimeout(() => {
        response.writeHead(200, { "content-type": "image/png" }).end(png)
        active--
      }, 50)
    })
    yield* Effect.promise(() => new Promise<void>((resolve) => web.listen(0, "127.0.0.1", () => resolve())))
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}/cat.png`
    const urls = yield* load(client, 300, 300, { ...request, image: { url }, search: { strategy: "STRATEGY_GREEDY" } })
    web.close()
    report.line()
    report.line(`Image URL flood: 300 concurrent calls with an image URL (a 50 ms image server on loopback, allowed).`)
    report.table(
      ["calls", "tried", "succeeded", "cut short", "failed", "failures", "p50 s", "p99 s"],
      [row("300 URLs", urls)],
    )
    report.line(`fetches made: ${fetches}; most at once: ${most} (images.maxConcurrent 4)`)
    gateway.child.kill("SIGTERM")
    yield* Effect.promise(() => gateway.exited)
  })

/** Steady load for SOAK_MINUTES, sampling the gateway's RSS, heap and descriptors. */
const soak = (endpoints: string) =>
  Effect.gen(function* () {
    const gateway = yield* Effect.promise(() => startGatewayProcess({ STAGEBEAM_ENDPOINTS: endpoints }))
    const client = yield* makeReasonerClient({ address: gateway.address, defaultDeadline: DEADLINE })
    const pid = gateway.child.pid!
    const samples: Array<ReadonlyArray<string>> = []
    let calls = 0
    const until = performance.now() + SOAK_MINUTES * 60_000
    const driver = Effect.gen(function* () {
      while (performance.now() < until) {
        const result = yield* load(client, 8, 4)
        calls += result.ok
      }
    })
    const sampler = Effect.gen(function* () {
      const started = performance.now()
      while (performance.now() < until) {
        const process = sampleProcess(pid)
        const heap = yield* Effect.promise(() => scrapeGauge(gateway.metricsUrl, "nodejs_heap_used_bytes"))
        samples.push([
          fixed((performance.now() - started) / 60_000, 1),
          String(calls),
          fixed(process.rss / 1e6, 0),
          fixed((heap ?? 0) / 1e6, 1),
          String(process.fds),
        ])
        yield* Effect.sleep("30 seconds")
      }
    })
    yield* Effect.all([driver, sampler], { concurrency: 2 })
    report.line()
    report.line(`Soak: ${SOAK_MINUTES} minutes of STAGE_BEAM N=4 calls, 4 at a time, gateway sampled every 30 s.`)
    report.table(["minute", "calls done", "RSS MB", "heap MB", "open fds"], samples)
    const first = samples[Math.min(1, samples.length - 1)]
    const last = samples.at(-1)
    if (first !== undefined && last !== undefined) {
      report.line(
        `RSS ${first[2]} → ${last[2]} MB (× ${fixed(Number(last[2]) / Number(first[2]))}), heap ${first[3]} → ${last[3]} MB, ` +
          `fds ${first[4]} → ${last[4]} (from the second sample on, after warm-up).`,
      )
    }
    gateway.child.kill("SIGTERM")
    yield* Effect.promise(() => gateway.exited)
  })

await Effect.runPromise(Effect.scoped(program))
console.log(`saved ${report.save()}`)
process.exit(0)
