/**
 * Reason latency of STAGE_BEAM with KNOCKOUT vs SEQUENTIAL tournaments for N = 2, 4, 8, through the gateway over
 * simulated vLLM servers whose calls take a fixed, known time, next to the critical path those times imply.
 * Run: node --conditions=@stagebeam/source bench/knockout-vs-sequential.ts
 */

import { syntheticQuestions } from "@stagebeam/vllm-sim"
import { Clock, Effect } from "effect"
import { criticalPathMs } from "./lib/criticalPath.ts"
import { benchImage } from "./lib/image.ts"
import { fixed, makeReport } from "./lib/report.ts"
import { startStack } from "./lib/stack.ts"
import { median } from "./lib/stats.ts"
import { chainedCalls, traceCriticalPathMs, traceShape } from "./lib/trace.ts"

const GENERATION_MS = 300
const JUDGE_MS = 150
const REPETITIONS = 5
const SERVERS_PER_POOL = 8 // the most calls a search has in flight at once (N = 8: one generation, four matches)
const SEED = "7"

/**
 * Every call costs exactly one prefill step of `ms`: no per-token, image or decode cost. The n samples of a call
 * share that step, and with one server per concurrent call nothing queues, so a call's latency is `ms`.
 */
const fixedLatency = (ms: number) => ({
  profileOverrides: {
    prefillBaseMs: ms,
    prefillPerTokenMs: 0,
    encoderMsPerTile: 0,
    decodeBaseMs: 0,
    decodePerSeqMs: 0,
    decodePerKContextMs: 0,
  },
  speed: 1,
})

const report = makeReport("knockout-vs-sequential")

const program = Effect.gen(function* () {
  const stack = yield* startStack({
    generators: Array.from({ length: SERVERS_PER_POOL }, (_, i) => ({ ...fixedLatency(GENERATION_MS), seed: i + 1 })),
    judges: Array.from({ length: SERVERS_PER_POOL }, (_, i) => ({ ...fixedLatency(JUDGE_MS), seed: 100 + i })),
  })
  const question = syntheticQuestions(1, 2024)[0]!.question
  const reason = (tournament: "KNOCKOUT" | "SEQUENTIAL", candidates: number) =>
    stack.reason({
      question,
      image: { data: benchImage },
      search: {
        strategy: "STRATEGY_STAGE_BEAM",
        candidatesPerStage: candidates,
        tournament: `TOURNAMENT_${tournament}`,
        seed: SEED,
      },
      includeTrace: true,
    })
  const timed = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.gen(function* () {
      const start = yield* Clock.currentTimeNanos
      const value = yield* effect
      return { value, ms: Number((yield* Clock.currentTimeNanos) - start) / 1e6 }
    })

  yield* reason("KNOCKOUT", 2) // warm-up: connections, JIT

  report.line(
    `STAGE_BEAM through the gateway over ${SERVERS_PER_POOL} generator + ${SERVERS_PER_POOL} judge simulated servers ` +
      `(vllm-sim, speed 1, profile "${stack.generators[0]!.profile.name}" with every cost zeroed but a fixed prefill step)`,
  )
  report.line(
    `fixed latencies: generation call ${GENERATION_MS} ms, judge call ${JUDGE_MS} ms; seed ${SEED}; median of ${REPETITIONS} runs`,
  )
  report.line(
    "critical path (trace) = Σ steps (generation calls × G + (pre-check + judge rounds) × J), from each run's trace",
  )
  report.line(
    "critical path (nominal) = criticalPathMs from bench/lib/criticalPath.ts: 4 × (G + depth × J), all N distinct",
  )
  report.line()

  const rows: Array<Array<string>> = []
  for (const candidates of [2, 4, 8]) {
    const medians: Record<string, number> = {}
    const criticals: Record<string, number> = {}
    for (const tournament of ["KNOCKOUT", "SEQUENTIAL"] as const) {
      const runs = []
      for (let i = 0; i < REPETITIONS; i++) runs.push(yield* timed(reason(tournament, candidates)))
      const measured = median(runs.map((r) => r.ms))
      medians[tournament] = measured
      const shape = traceShape(runs[0]!.value.trace)
      const critical = traceCriticalPathMs(shape, GENERATION_MS, JUDGE_MS)
      criticals[tournament] = critical
      const nominal = criticalPathMs({
        strategy: "STAGE_BEAM",
        tournament,
        candidates,
        generationMs: GENERATION_MS,
        judgeMs: JUDGE_MS,
      })
      rows.push([
        String(candidates),
        tournament,
        shape.map((s) => `${s.judgeMatches}/${s.judgeRounds}`).join(" "),
        fixed(measured, 0),
        String(critical),
        String(nominal),
        fixed(measured / critical),
        fixed(measured - critical, 0),
        fixed((measured - critical) / chainedCalls(shape), 1),
        tournament === "SEQUENTIAL" ? fixed(measured / medians.KNOCKOUT!) : "",
        tournament === "SEQUENTIAL" ? fixed(critical / criticals.KNOCKOUT!) : "",
      ])
    }
  }
  report.table(
    [
      "N",
      "tournament",
      "matches/rounds per stage",
      "measured_ms",
      "critical_ms",
      "nominal_ms",
      "measured/critical",
      "overhead_ms",
      "per chained call",
      "SEQ/KO speed-up",
      "critical SEQ/KO",
    ],
    rows,
  )
  report.line()
  report.line(
    "overhead_ms = measured − critical: gateway, gRPC, HTTP and timer costs over the 4 stages; per chained call =",
  )
  report.line("overhead_ms / the calls on the critical path (generation calls + pre-checks + judge rounds).")
  report.line(`saved to ${report.save()}`)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
