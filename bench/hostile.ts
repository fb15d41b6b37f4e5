/**
 * The hostile-input battery's figures (issue #22): how long a gateway process's event loop is held, how long a
 * refusal takes, and what ordinary calls feel meanwhile, when a caller sends the battery's inputs
 * (services/gateway/src/dev/HostileInputs.ts, the inputs services/gateway/test/hostile.test.ts asserts the answers
 * to). Each phase runs on a fresh gateway process (default settings but its ports) over one vllm-sim process, so the
 * gateway's own `nodejs_eventloop_delay_max_seconds` (the latest a sample came since it started serving, perf_hooks
 * sampling every 50 ms) is that phase's, and so is the finer reading of bench/lib/loop-watch.ts (preloaded into the gateway,
 * from the end of the warm-up on): ordinary calls only (the baseline), the long fields and the 20 MB question on the
 * HTTP door, the same on the gRPC door, and a legitimate 20 MiB image answered on both doors; ordinary calls (HTTP and
 * gRPC in turn) run throughout. The same
 * phases run on a baseline checkout's gateway in the same run (HOSTILE_BASELINE: a commit or a directory, default
 * bb10965, the main before the gRPC door's wire bounds; "none" skips it).
 *
 * Run: node --conditions=@stagebeam/source bench/hostile.ts   (HOSTILE_ROUNDS=<hostile sends per phase>, default 3;
 *   HOSTILE_PHASES=ordinary,http,grpc,image to run only some)
 * Asserts nothing; prints and saves bench/results/hostile.txt.
 */

import { readFileSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
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
  imageUrlChat,
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
import { noisePng } from "./lib/image.ts"
import { freePort, sampleProcess, scrapeGauge, startGatewayProcess, startSimulatorProcess } from "./lib/processes.ts"
import { fixed, makeReport } from "./lib/report.ts"
import { quantile } from "./lib/stats.ts"

const ROUNDS = Number(process.env.HOSTILE_ROUNDS ?? 3)
const BASELINE = process.env.HOSTILE_BASELINE ?? "bb10965"
const SPEED = 200
/** HOSTILE_PHASES=http,image runs only those phases (ordinary, http, grpc, image). */
const ONLY = process.env.HOSTILE_PHASES?.split(",")
const report = makeReport("hostile")
const LOOP_WATCH = join(import.meta.dirname, "lib", "loop-watch.ts")

type Phase = "ordinary" | "http" | "grpc" | "image"
const PHASES: ReadonlyArray<readonly [Phase, string]> = [
  ["ordinary", "ordinary calls only (baseline)"],
  ["http", `long fields + 20 MB question on the HTTP door ×${ROUNDS}`],
  ["grpc", `long fields + 20 MB question on the gRPC door ×${ROUNDS}`],
  ["image", `a 20 MiB image answered, HTTP then gRPC ×${ROUNDS}`],
]

/**
 * A legitimate request at images.maxBytes (20 MiB by default): a PNG of noise (it does not compress) as large as
 * fits, which the gateway accepts, decodes, scales to the canvas the model's processor would (images.prescale) and
 * answers. The side is the largest whose PNG fits the limit.
 */
const MAX_IMAGE_BYTES = 20 * MB
const largestImage = (): Buffer => {
  for (let side = 2645; side > 2000; side--) {
    const png = noisePng(side, side)
    if (png.length <= MAX_IMAGE_BYTES) return png
  }
  throw new Error("no noise PNG fits images.maxBytes")
}

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

/** A chat completion carrying `png` as a data: URL (GREEDY). */
const imageChat = (png: Buffer): RawRequest => imageUrlChat(`data:image/png;base64,${png.toString("base64")}`)

/** What a phase sends beside the ordinary calls; the times in ms from sending each 20 MB to its answer. */
const hostile = (phase: Phase, chat: string, client: ReasonerClient, hugeHttp: RawRequest, png: Buffer) =>
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
      if (phase === "image") {
        let started = performance.now()
        const answer = yield* Effect.promise(() => sendRaw(chat, hugeHttp))
        refusals.push(performance.now() - started)
        if (answer.status !== 200) throw new Error(`the 20 MiB image was answered ${answer.status}: ${answer.body}`)
        started = performance.now()
        yield* client.Reason({ ...ordinaryReason, image: { data: png } })
        refusals.push(performance.now() - started)
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
const runPhase = (
  checkout: string | undefined,
  label: string,
  phase: Phase,
  title: string,
  simulator: string,
  png: Buffer,
) =>
  Effect.gen(function* () {
    const watchFile = join(tmpdir(), `hostile-loop-${process.pid}-${phase}-${label.replace(/\W+/g, "_")}`)
    const gateway = yield* Effect.promise(() =>
      startGatewayProcess(
        { STAGEBEAM_ENDPOINTS: simulator, NODE_OPTIONS: `--import=${LOOP_WATCH}`, LOOP_WATCH_FILE: watchFile },
        checkout,
      ),
    )
    const client = yield* makeReasonerClient({ address: gateway.address, defaultDeadline: "60 seconds" })
    const chat = `${gateway.httpUrl}/v1/chat/completions`
    const hugeHttp = phase === "http" ? hugeQuestionChat(20 * MB) : phase === "image" ? imageChat(png) : ordinaryChat
    // Warm-up: the first calls wait for the pool's first probe.
    for (let tries = 0; tries < 40; tries++) {
      if ((yield* Effect.promise(() => sendRaw(chat, ordinaryChat))).status === 200) break
      yield* Effect.sleep("250 millis")
    }
    yield* Effect.result(client.Reason(ordinaryReason))
    // The watcher's reading covers the phase from here on; the gauge's, the warm-up too.
    gateway.child.kill("SIGUSR2")
    const stop = { done: false }
    const [calls, refusals] = yield* Effect.all(
      [
        ordinaryCalls(chat, client, stop),
        Effect.gen(function* () {
          const refused =
            phase === "ordinary"
              ? yield* Effect.sleep("3 seconds").pipe(Effect.as([]))
              : yield* hostile(phase, chat, client, hugeHttp, png)
          stop.done = true
          return refused
        }),
      ],
      { concurrency: 2 },
    )
    // The gauge is refreshed every second.
    yield* Effect.sleep("1500 millis")
    const loopMs = ((yield* Effect.promise(() => scrapeGauge(gateway.metricsUrl, LOOP_DELAY_MAX))) ?? Number.NaN) * 1000
    const watchedMs = Number(readFileSync(watchFile, "utf8"))
    rmSync(watchFile, { force: true })
    const peakRss = sampleProcess(gateway.child.pid!).peakRss
    gateway.child.kill("SIGKILL")
    yield* Effect.promise(() => gateway.exited)
    const row = [
      label,
      title,
      fixed(loopMs, 0),
      fixed(watchedMs, 0),
      refusals.length === 0 ? "-" : refusals.map((refusal) => fixed(refusal, 0)).join(" "),
      `${ms(calls.http, 0.5)} / ${ms(calls.http, 1)}`,
      `${ms(calls.grpc, 0.5)} / ${ms(calls.grpc, 1)}`,
      String(calls.http.length + calls.grpc.length),
      String(calls.failed),
      fixed(peakRss / MB, 0),
    ]
    return { row, loopMs, watchedMs }
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
  const png = largestImage()
  report.line(
    `Hostile inputs (issue #22): a fresh gateway process per phase (default settings but its ports) over one vllm-sim ` +
      `process (speed ${SPEED}); ordinary GREEDY calls, HTTP and gRPC in turn, one at a time, throughout each phase.`,
  )
  report.line(
    "Loop max = the gateway's nodejs_eventloop_delay_max_seconds after the phase (perf_hooks sampling every 50 ms, " +
      "since it started serving: warm-up included; it reads a hold of B ms as B − 50 to B). Held = the longest a " +
      "5 ms timer was held back in the gateway from the end of the warm-up on (bench/lib/loop-watch.ts, preloaded). " +
      "Send → answer = each 20 MB refused (the hostile phases) or answered 200 (the image phase, the noise PNG of " +
      `${png.length} bytes, scaled by the gateway to the model's canvas), as the client sees it (the bench process ` +
      "builds and sends the 20 MB itself, on the same 2 shared cores). Latencies in ms.",
  )
  const rows: Array<ReadonlyArray<string>> = []
  const loops = new Map<string, number>()
  const watched = new Map<string, number>()
  for (const [label, checkout] of gateways) {
    for (const [phase, title] of PHASES) {
      if (ONLY !== undefined && !ONLY.includes(phase)) continue
      const { row, loopMs, watchedMs } = yield* runPhase(checkout, label, phase, title, simulator.url, png)
      rows.push(row)
      loops.set(`${label}/${phase}`, loopMs)
      watched.set(`${label}/${phase}`, watchedMs)
      console.error(row.join("  "))
    }
  }
  report.table(
    [
      "gateway",
      "phase",
      "loop max ms",
      "held ms",
      "20 MB send → answer ms",
      "HTTP p50 / max",
      "gRPC p50 / max",
      "ordinary calls",
      "failed",
      "peak RSS MiB",
    ],
    rows,
  )
  if (BASELINE !== "none") {
    for (const [phase] of PHASES) {
      const base = watched.get(`base ${BASELINE}/${phase}`)
      const now = watched.get(`this checkout/${phase}`)
      if (base === undefined || now === undefined) continue
      report.line(
        `Held, ${phase}: ${fixed(now, 0)} ms here vs ${fixed(base, 0)} ms on ${BASELINE} (× ${fixed(now / base)}); ` +
          `loop max ${fixed(loops.get(`this checkout/${phase}`) ?? Number.NaN, 0)} vs ` +
          `${fixed(loops.get(`base ${BASELINE}/${phase}`) ?? Number.NaN, 0)} ms.`,
      )
    }
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
