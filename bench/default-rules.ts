/**
 * The DEFAULT preset's rules on the calibrated content model (bench/calibrate.ts): each rule's accuracy against its
 * alternative, paired by question and seed (same questions, same seeds; the interval is the paired difference's
 * 95%, from the discordant pairs). Searches run in process over libs/search (bench/lib/in-process.ts).
 * Run: node --conditions=@stagebeam/source bench/default-rules.ts [--questions 3000]
 * Assumptions: those of the content model (services/vllm-sim/src/content/model.ts), rationale gap at its default.
 */
import { isConclusionCorrect, syntheticQuestions } from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { benchImage } from "./lib/image.ts"
import { searchInProcess } from "./lib/in-process.ts"
import { makeReport } from "./lib/report.ts"

const at = process.argv.indexOf("--questions")
const QUESTIONS = at >= 0 ? Number(process.argv[at + 1]) : 3000
/** The MMVet-like set of bench/calibrate.ts (seed 21, its fitted difficulty shift). */
const questions = syntheticQuestions(QUESTIONS, 21, { difficultyShift: -0.0859375 })
const imageUrl = `data:image/png;base64,${Buffer.from(benchImage).toString("base64")}`

type Search = Record<string, unknown>
const defaults: Search = { strategy: "STAGE_BEAM", candidates: 4 }
const reference: Search = { ...defaults, preset: "REFERENCE" }

const report = makeReport("default-rules")

const run = (search: Search) =>
  Effect.forEach(questions, (q, i) =>
    searchInProcess({ question: q.question, imageUrl, seed: i + 1, ...search } as never).pipe(
      Effect.map((conclusion) => isConclusionCorrect(q.question, conclusion) === true),
    ),
  )

const pct = (x: number) => (100 * x).toFixed(1)

const pair = (label: string, base: Search, other: Search) =>
  Effect.gen(function* () {
    const a = yield* run(base)
    const b = yield* run(other)
    const won = b.filter((right, i) => right && !a[i]).length
    const lost = b.filter((right, i) => !right && a[i]).length
    const n = questions.length
    const se = Math.sqrt(won + lost - (won - lost) ** 2 / n) / n
    const rate = (xs: ReadonlyArray<boolean>) => xs.filter(Boolean).length / n
    return [label, pct(rate(a)), pct(rate(b)), `${won >= lost ? "+" : ""}${pct((won - lost) / n)} ± ${pct(1.96 * se)}`]
  })

const program = Effect.gen(function* () {
  report.line(
    `DEFAULT rules on the calibrated content model: STAGE_BEAM N=4, ${QUESTIONS} MMVet-like questions, question i with seed i + 1`,
  )
  report.line(`command: node --conditions=@stagebeam/source bench/default-rules.ts ${process.argv.slice(2).join(" ")}`)
  report.line("(machine shared with parallel work; the figures do not depend on timing)")
  report.line()
  const rows = [
    yield* pair("DEFAULT: reasoning check OFF -> ONCE", defaults, { ...defaults, reasoningCheck: "ONCE" }),
    yield* pair("REFERENCE: reasoning check PER_MATCH -> OFF", reference, { ...reference, reasoningCheck: "OFF" }),
    yield* pair("DEFAULT: verdict CHOICE -> FREE_TEXT", defaults, { ...defaults, verdict: "FREE_TEXT" }),
    yield* pair("REFERENCE: tournament SEQUENTIAL -> KNOCKOUT", reference, { ...reference, tournament: "KNOCKOUT" }),
  ]
  report.table(["rule", "accuracy before", "after", "difference (paired 95%)"], rows)
  report.line()
  report.line(`saved to ${report.save()}`)
})

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
