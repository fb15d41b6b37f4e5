/**
 * The hostile-input battery's figures (issue #22): how long a gateway process's event loop is held, how long a
 * refusal takes, and what ordinary calls feel meanwhile, when a caller sends the battery's inputs
 * (services/gateway/src/dev/HostileInputs.ts, the inputs services/gateway/test/hostile.test.ts asserts the answers
 * to). Each phase runs on a fresh gateway process (default settings but its ports) over one vllm-sim process, so the
 * gateway's own `nodejs_eventloop_delay_max_seconds` (the longest delay since it started serving, perf_hooks at
 * 10 ms resolution) is that phase's: ordinary calls only (the baseline), the 20 MB question on the HTTP door, and the
 * long fields and the 20 MB question on the gRPC door; ordinary calls (HTTP and gRPC in turn) run throughout. The same
 * phases run on a baseline checkout's gateway in the same run (HOSTILE_BASELINE: a commit or a directory, default
 * bb10965, the main before the gRPC door's wire bounds; "none" skips it).
 *
 * Run: node --conditions=@stagebeam/source bench/hostile.ts   (HOSTILE_ROUNDS=<hostile sends per phase>, default 3)
 * Asserts nothing; prints and saves bench/results/hostile.txt.
 */

import { loadavg } from "node:os"
import type * as protoLoader from "@grpc/proto-loader"
import {
  loadReasonerPackageDefinition,
  makeReasonerClient,
  type ReasonerClient,
  reasonerServiceName,
} from "@stagebeam/proto"
import { Effect, Exit } from "effect"
import { oversizedField, resolveFieldBounds } from "../libs/grpc/src/FieldBounds.ts"
import { wireProblem } from "../libs/grpc/src/WireFormat.ts"
import { decodeReasonRequest } from "../services/gateway/src/DecodeRequest.ts"
import {
  hugeQuestionChat,
  LOOP_DELAY_MAX,
  longGrpcFields,
  longHttpFields,
  MB,
  ordinaryChat,
  ordinaryReason,
  type RawRequest,
  sendRaw,
} from "../services/gateway/src/dev/HostileInputs.ts"
import { REASON_REQUEST_BOUNDS } from "../services/gateway/src/ReasonerServer.ts"
import { baselineCheckout } from "./lib/baseline.ts"
import { freePort, sampleProcess, scrapeGauge, startGatewayProcess, startSimulatorProcess } from "./lib/processes.ts"
import { fixed, makeReport } from "./lib/report.ts"
import { quantile } from "./lib/stats.ts"

const ROUNDS = Number(process.env.HOSTILE_ROUNDS ?? 3)
const BASELINE = process.env.HOSTILE_BASELINE ?? "bb10965"
const SPEED = 200
const report = makeReport("hostile")

type Phase = "ordinary" | "http" | "grpc"
const PHASES: ReadonlyArray<readonly [Phase, string]> = [
  ["ordinary", "ordinary calls only (baseline)"],
  ["http", `long fields + 20 MB question on the HTTP door ×${ROUNDS}`],
  ["grpc", `long fields + 20 MB question on the gRPC door ×${ROUNDS}`],
]

interface OrdinaryCalls {
  readonly http: Array<number>
  readonly grpc: Array<number>
  failed: number
}

/** Ordinary calls, HTTP and gRPC in turn, one at a time, until `stop.done`: their latencies in ms. */
const ordinaryCalls = (chat: string, client: ReasonerClient, stop: { done: boolean }) =>
  Effect.gen(function* () {
    const calls: OrdinaryCalls = { http: [], grpc: [], failed: 0 }
    while (!stop.done) {
      let started = performance.now()
      const answer = yield* Effect.promise(() => sendRaw(chat, ordinaryChat))
      calls.http.push(performance.now() - started)
      if (answer.status !== 200) calls.failed++
      started = performance.now()
      const reply = yield* Effect.result(client.Reason(ordinaryReason))
      calls.grpc.push(performance.now() - started)
      if (reply._tag === "Failure") calls.failed++
    }
    return calls
  })

/** What a hostile phase sends; the 20 MB refusals' times in ms. */
const hostile = (phase: Phase, chat: string, client: ReasonerClient, hugeHttp: RawRequest) =>
  Effect.gen(function* () {
    const refusals: Array<number> = []
    const long = "y".repeat(MB)
    for (let round = 0; round < ROUNDS; round++) {
      if (phase === "http") {
        for (const [body] of longHttpFields(long)) {
          yield* Effect.promise(() => sendRaw(chat, { ...ordinaryChat, body }))
        }
        const started = performance.now()
        const answer = yield* Effect.promise(() => sendRaw(chat, hugeHttp))
        refusals.push(performance.now() - started)
        if (answer.status !== 400) throw new Error(`the 20 MB question was answered ${answer.status}`)
      }
      if (phase === "grpc") {
        for (const [request] of longGrpcFields(long)) yield* Effect.result(client.Reason(request))
        const started = performance.now()
        const error = yield* Effect.flip(client.Reason({ question: "x".repeat(20 * MB) }))
        refusals.push(performance.now() - started)
        if (error.statusName !== "INVALID_ARGUMENT") throw new Error(`the 20 MB question got ${error.statusName}`)
      }
      yield* Effect.sleep("300 millis")
    }
    return refusals
  })

const ms = (values: ReadonlyArray<number>, q: number) =>
  fixed(
    quantile(
      [...values].sort((a, b) => a - b),
      q,
    ),
    0,
  )

/** One phase on a fresh gateway of `checkout`: its row of the table, and its longest loop delay in ms. */
const runPhase = (checkout: string | undefined, label: string, phase: Phase, title: string, simulator: string) =>
  Effect.gen(function* () {
    const gateway = yield* Effect.promise(() => startGatewayProcess({ STAGEBEAM_ENDPOINTS: simulator }, checkout))
    const client = yield* makeReasonerClient({ address: gateway.address, defaultDeadline: "60 seconds" })
    const chat = `${gateway.httpUrl}/v1/chat/completions`
    const hugeHttp = phase === "http" ? hugeQuestionChat(20 * MB) : ordinaryChat
    // Warm-up: the first calls wait for the pool's first probe.
    for (let tries = 0; tries < 40; tries++) {
      if ((yield* Effect.promise(() => sendRaw(chat, ordinaryChat))).status === 200) break
      yield* Effect.sleep("250 millis")
    }
    yield* Effect.result(client.Reason(ordinaryReason))
    const stop = { done: false }
    const [calls, refusals] = yield* Effect.all(
      [
        ordinaryCalls(chat, client, stop),
        Effect.gen(function* () {
          const refused =
            phase === "ordinary"
              ? yield* Effect.sleep("3 seconds").pipe(Effect.as([]))
              : yield* hostile(phase, chat, client, hugeHttp)
          stop.done = true
          return refused
        }),
      ],
      { concurrency: 2 },
    )
    // The gauge is refreshed every second.
    yield* Effect.sleep("1500 millis")
    const loopMs = ((yield* Effect.promise(() => scrapeGauge(gateway.metricsUrl, LOOP_DELAY_MAX))) ?? Number.NaN) * 1000
    const peakRss = sampleProcess(gateway.child.pid!).peakRss
    gateway.child.kill("SIGKILL")
    yield* Effect.promise(() => gateway.exited)
    const row = [
      label,
      title,
      fixed(loopMs, 0),
      refusals.length === 0 ? "-" : refusals.map((refusal) => fixed(refusal, 0)).join(" "),
      `${ms(calls.http, 0.5)} / ${ms(calls.http, 1)}`,
      `${ms(calls.grpc, 0.5)} / ${ms(calls.grpc, 1)}`,
      String(calls.http.length + calls.grpc.length),
      String(calls.failed),
      fixed(peakRss / MB, 0),
    ]
    return { row, loopMs }
  }).pipe(Effect.scoped)

/** CPU ms of `work` in this process (user + system), the median of `times` runs. */
const cpuMs = (work: () => void, times = 5): number => {
  const runs: Array<number> = []
  for (let run = 0; run < times; run++) {
    const before = process.cpuUsage()
    work()
    const used = process.cpuUsage(before)
    runs.push((used.user + used.system) / 1000)
  }
  return quantile(
    runs.sort((a, b) => a - b),
    0.5,
  )
}

/**
 * What one 20 MB question costs the event loop before any handler answers, in this process: the baseline's path
 * (grpc-js's protobufjs decode, then the request schema, whose error quotes the question before it is cut) against
 * this checkout's (the wire check of the bounds, which reads length prefixes only). CPU time, not wall time: on a
 * shared machine the loop-delay figures above carry other processes' scheduling; this one mostly does not.
 */
const onLoopWork = () => {
  const packageDefinition = loadReasonerPackageDefinition()
  const method = (packageDefinition[reasonerServiceName] as protoLoader.ServiceDefinition).Reason!
  const bounds = resolveFieldBounds(packageDefinition, reasonerServiceName, method, REASON_REQUEST_BOUNDS)
  if (typeof bounds === "string") throw new Error(bounds)
  const rows: Array<ReadonlyArray<string>> = []
  for (const [what, request] of [
    ["question of 20 MiB", { question: "x".repeat(20 * MB) }],
    ["judge.name of 1 MiB", { question: "q", judge: { name: "y".repeat(MB) } }],
  ] as const) {
    const bytes = method.requestSerialize(request) as Buffer
    const decoded = cpuMs(() => {
      const message = method.requestDeserialize(bytes)
      const exit = Effect.runSyncExit(decodeReasonRequest(message, { maxImageBytes: 20 * MB }))
      if (!Exit.isFailure(exit)) throw new Error(`the ${what} was accepted`)
    })
    const checked = cpuMs(() => {
      if (wireProblem(bytes) !== undefined || oversizedField(bytes, bounds) === undefined) {
        throw new Error(`the wire check let the ${what} through`)
      }
    })
    rows.push([what, fixed(decoded, 1), fixed(checked, 3), fixed(decoded / Math.max(checked, 0.001), 0)])
  }
  report.line()
  report.line(
    "On-loop work of one refused request before any answer (in the bench process, CPU ms, median of 5): the " +
      "baseline's protobufjs decode + request schema vs this checkout's wire check of the bounds.",
  )
  report.table(["request", "decode + schema ms", "wire check ms", "×"], rows)
}

const program = Effect.gen(function* () {
  const port = yield* Effect.promise(freePort)
  const simulator = yield* Effect.promise(() => startSimulatorProcess(port, SPEED))
  const gateways: Array<readonly [string, string | undefined]> = [
    ...(BASELINE === "none" ? [] : [[`base ${BASELINE}`, baselineCheckout(BASELINE, "hostile-baseline")] as const]),
    ["this checkout", undefined],
  ]
  report.line(
    `Hostile inputs (issue #22): a fresh gateway process per phase (default settings but its ports) over one vllm-sim ` +
      `process (speed ${SPEED}); ordinary GREEDY calls, HTTP and gRPC in turn, one at a time, throughout each phase.`,
  )
  report.line(
    "Loop max = the gateway's nodejs_eventloop_delay_max_seconds after the phase (perf_hooks, 10 ms resolution, " +
      "since it started serving: warm-up included). Refusal = send to answer of each 20 MB question, as the client " +
      "sees it (the bench process builds and sends the 20 MB itself, on the same 2 shared cores). Latencies in ms.",
  )
  const rows: Array<ReadonlyArray<string>> = []
  const loops = new Map<string, number>()
  for (const [label, checkout] of gateways) {
    for (const [phase, title] of PHASES) {
      const { row, loopMs } = yield* runPhase(checkout, label, phase, title, simulator.url)
      rows.push(row)
      loops.set(`${label}/${phase}`, loopMs)
      console.error(row.join("  "))
    }
  }
  report.table(
    [
      "gateway",
      "phase",
      "loop max ms",
      "20 MB refusal ms",
      "HTTP p50 / max",
      "gRPC p50 / max",
      "ordinary calls",
      "failed",
      "peak RSS MiB",
    ],
    rows,
  )
  if (BASELINE !== "none") {
    const base = loops.get(`base ${BASELINE}/grpc`) ?? Number.NaN
    const now = loops.get("this checkout/grpc") ?? Number.NaN
    report.line(
      `Loop max after the gRPC cases: ${fixed(now, 0)} ms here vs ${fixed(base, 0)} ms on ${BASELINE} ` +
        `(× ${fixed(now / base)}); ordinary calls only: ${fixed(loops.get("this checkout/ordinary") ?? Number.NaN, 0)} ms.`,
    )
  }
  simulator.child.kill("SIGKILL")
  report.line(
    `Load average while it ran (2 cores, shared): ${loadavg()
      .map((load) => fixed(load, 1))
      .join(" ")}.`,
  )
  onLoopWork()
})

await Effect.runPromise(program)
console.log(`saved ${report.save()}`)
process.exit(0)
