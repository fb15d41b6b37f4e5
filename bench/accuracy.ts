/**
 * Accuracy of GREEDY, BEST_OF_N and STAGE_BEAM on the simulator's synthetic multiple-choice set, through the
 * gateway: does stage-level search beat a single sample, as in the LLaVA-CoT paper? Printed, not asserted.
 * Run: node --conditions=@stagebeam/source bench/accuracy.ts
 */
import { extractChoice } from "@stagebeam/cot"
import { isConclusionCorrect, syntheticQuestions } from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { benchImage } from "./lib/image.ts"
import { fixed, makeReport, percent } from "./lib/report.ts"
import { startStack } from "./lib/stack.ts"
import { differenceInterval, mean, wilson } from "./lib/stats.ts"
import { bestOfN, greedy, type StrategyConfig, stageBeam } from "./lib/strategies.ts"

const QUESTIONS = 1000
const QUESTION_SET_SEED = 11
const SERVERS = 4
const SPEED = 1000 // virtual time runs this much faster than the wall clock; content does not depend on it
const CONCURRENCY = 16

const configs: ReadonlyArray<StrategyConfig> = [greedy, bestOfN(4), stageBeam(2), stageBeam(4)]

interface Outcome {
  readonly correct: boolean
  readonly extractedCorrect: boolean
  readonly judgeCalls: number
  readonly generationCalls: number
  readonly completionTokens: number
}

const report = makeReport("accuracy")

const program = Effect.gen(function* () {
  const stack = yield* startStack({
    generators: Array.from({ length: SERVERS }, (_, i) => ({ speed: SPEED, seed: i + 1 })),
  })
  const questions = syntheticQuestions(QUESTIONS, QUESTION_SET_SEED)
  const sim = stack.generators[0]!
  report.line(
    `${QUESTIONS} synthetic 4-option questions (syntheticQuestions(${QUESTIONS}, ${QUESTION_SET_SEED})), through the gateway over ` +
      `${SERVERS} simulated servers (profile "${sim.profile.name}", speed ${SPEED}, self-judge: the default graded judge, no position bias)`,
  )
  report.line(
    "each question's seed is its index + 1 for every strategy; sampling defaults (temperature 0.6, top_p 0.9, 2048 tokens)",
  )
  report.line(
    "correct = the simulator's isConclusionCorrect; extractChoice = @stagebeam/cot's VLMEvalKit-style extraction == answer",
  )
  report.line()

  const results = new Map<string, ReadonlyArray<Outcome>>()
  for (const config of configs) {
    const started = performance.now()
    const outcomes = yield* Effect.forEach(
      questions,
      (q, i) =>
        stack
          .reason({
            question: q.question,
            image: { data: benchImage },
            search: { ...config.search, seed: String(i + 1) },
          })
          .pipe(
            Effect.map((response): Outcome => {
              const options = Object.fromEntries(q.options.map((o) => [o.letter, o.text]))
              return {
                correct: isConclusionCorrect(q.question, response.conclusion) === true,
                extractedCorrect: extractChoice(response.conclusion, options) === q.answer,
                judgeCalls: response.usage?.judgeCalls ?? 0,
                generationCalls: response.usage?.generationCalls ?? 0,
                completionTokens: Number(response.usage?.completionTokens ?? 0),
              }
            }),
          ),
      { concurrency: CONCURRENCY },
    )
    results.set(config.label, outcomes)
    console.log(`  ${config.label}: ${((performance.now() - started) / 1000).toFixed(1)} s wall`)
  }

  const base = results.get(greedy.label)!
  const baseCount = { successes: base.filter((o) => o.correct).length, trials: base.length }
  const rows = configs.map((config) => {
    const outcomes = results.get(config.label)!
    const successes = outcomes.filter((o) => o.correct).length
    const ci = wilson(successes, outcomes.length)
    const diff = differenceInterval({ successes, trials: outcomes.length }, baseCount)
    const extracted = outcomes.filter((o) => o.extractedCorrect).length / outcomes.length
    // Paired by question: right where GREEDY was wrong, and the other way round.
    const won = outcomes.filter((o, i) => o.correct && !base[i]!.correct).length
    const lost = outcomes.filter((o, i) => !o.correct && base[i]!.correct).length
    return [
      config.label,
      `${successes}/${outcomes.length}`,
      percent(successes / outcomes.length),
      `[${percent(ci.low)}, ${percent(ci.high)}]`,
      config === greedy
        ? ""
        : `${diff.diff >= 0 ? "+" : ""}${(100 * diff.diff).toFixed(1)} pp [${(100 * diff.low).toFixed(1)}, ${(100 * diff.high).toFixed(1)}]`,
      config === greedy ? "" : `${won}/${lost}`,
      percent(extracted),
      String(outcomes.filter((o) => o.correct !== o.extractedCorrect).length),
      fixed(mean(outcomes.map((o) => o.generationCalls)), 1),
      fixed(mean(outcomes.map((o) => o.judgeCalls)), 1),
      fixed(mean(outcomes.map((o) => o.completionTokens)), 0),
    ]
  })
  report.table(
    [
      "strategy",
      "correct",
      "accuracy",
      "95% Wilson CI",
      "vs GREEDY (95% Newcombe CI)",
      "won/lost vs GREEDY",
      "extractChoice acc",
      "scorers disagree",
      "gen calls/q",
      "judge calls/q",
      "completion tok/q",
    ],
    rows,
  )
  report.line()
  report.line(
    "The difference interval ignores the pairing by question (same questions, same seeds), so it is conservative;",
  )
  report.line(
    "won/lost counts the questions this strategy got right and GREEDY wrong, and the reverse (McNemar's pairs).",
  )
  report.line(`saved to ${report.save()}`)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
