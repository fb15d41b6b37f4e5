/**
 * KNOCKOUT vs SEQUENTIAL latency of STAGE_BEAM on the in-memory fakes with fixed latencies (real clock), next to the
 * critical path computed from those latencies. Run: node --conditions=@stagebeam/source libs/search/bench/knockout-vs-sequential.ts
 * The integrator's benchmark against the simulator can reuse `criticalPathMs` the same way.
 */
import { Clock, Effect, Layer } from "effect"
import { criticalPathMs } from "../../../bench/lib/criticalPath.ts"
import { decodeSearchRequest, runSearch } from "../src/index.ts"
import { makeFakeGenerator, makeFakeJudge } from "../src/testing.ts"

const generationMs = 40
const judgeMs = 20

const measure = (tournament: "KNOCKOUT" | "SEQUENTIAL", candidates: number) =>
  Effect.gen(function* () {
    const layer = Layer.merge(
      makeFakeGenerator({ latencyMs: generationMs }).layer,
      makeFakeJudge({ latencyMs: judgeMs }).layer,
    )
    const request = yield* decodeSearchRequest({
      question: "Q",
      imageUrl: "http://img",
      tournament,
      candidates,
      seed: 1,
    })
    const start = yield* Clock.currentTimeMillis
    yield* runSearch(request).pipe(Effect.provide(layer))
    return (yield* Clock.currentTimeMillis) - start
  })

const program = Effect.gen(function* () {
  console.log(`STAGE_BEAM, generation ${generationMs} ms, judge ${judgeMs} ms (in-memory fakes, real clock)`)
  console.log("N  tournament  measured_ms  critical_path_ms  ratio  knockout_speedup")
  for (const candidates of [2, 4, 8]) {
    const measured: Record<string, number> = {}
    for (const tournament of ["KNOCKOUT", "SEQUENTIAL"] as const) {
      const ms = yield* measure(tournament, candidates)
      measured[tournament] = ms
      const critical = criticalPathMs({ strategy: "STAGE_BEAM", tournament, candidates, generationMs, judgeMs })
      const speedup = tournament === "SEQUENTIAL" ? (ms / measured.KNOCKOUT!).toFixed(2) : ""
      console.log(
        `${candidates}  ${tournament.padEnd(10)}  ${String(ms).padStart(11)}  ${String(critical).padStart(16)}  ${(ms / critical).toFixed(2)}   ${speedup}`,
      )
    }
  }
})

Effect.runPromise(program)
