/**
 * Judge input per stage: what showing the judge the image costs, stage by stage, and what it does to selection.
 * STAGE_BEAM N=4 with the DEFAULT preset's constrained verdicts, a judge model on its own pool, declared once per
 * configuration with `images` turned off for one step kind (or all of them); the reference shows the image to every
 * judge prompt. Judge GPU-seconds come from the judge servers' busy time; "latent best" is bench/judges.ts's
 * measure (the step kept its candidate of highest latent quality). Printed, not asserted.
 * Run: node --conditions=@stagebeam/source bench/judge-images.ts (JUDGE_IMAGES_QUESTIONS=N for another size)
 */
import { syntheticQuestions } from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { type JudgingConfig, runConfigs, type Search } from "./lib/judging.ts"
import { fixed, makeReport, percent } from "./lib/report.ts"
import { startStack } from "./lib/stack.ts"
import { differenceInterval, wilson } from "./lib/stats.ts"

const QUESTIONS = Number(process.env.JUDGE_IMAGES_QUESTIONS ?? 150)
const QUESTION_SET_SEED = 11
const SPEED = 1000
const CONCURRENCY = 16
const STEP_KINDS = ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"] as const

const search: Search = {
  strategy: "STRATEGY_STAGE_BEAM",
  candidatesPerStage: 4,
  verdict: "VERDICT_MODE_CHOICE",
  matchOrder: "MATCH_ORDER_SEEDED",
}

const judges = {
  everywhere: { kind: "pairwise", pool: "judge" },
  ...Object.fromEntries(
    STEP_KINDS.map((kind) => [
      `without-${kind.toLowerCase()}`,
      { kind: "pairwise", pool: "judge", images: { [kind]: false } },
    ]),
  ),
  nowhere: {
    kind: "pairwise",
    pool: "judge",
    images: Object.fromEntries(STEP_KINDS.map((kind) => [kind, false])),
  },
}

const configs: ReadonlyArray<JudgingConfig> = [
  { label: "image in every judge call (reference, default)", search, judge: "everywhere" },
  ...STEP_KINDS.map((kind) => ({ label: `no image at ${kind}`, search, judge: `without-${kind.toLowerCase()}` })),
  { label: "no image in any judge call", search, judge: "nowhere" },
]

const report = makeReport("judge-images")

const program = Effect.gen(function* () {
  const stack = yield* startStack({
    generators: Array.from({ length: 4 }, (_, i) => ({ speed: SPEED, seed: i + 1 })),
    judges: Array.from({ length: 2 }, (_, i) => ({ speed: SPEED, seed: 20 + i, model: "judge-model" })),
    settings: { judges: judges as never, defaultJudge: "everywhere", http: { enabled: false } },
  })
  const questions = syntheticQuestions(QUESTIONS, QUESTION_SET_SEED)
  report.line(
    `${QUESTIONS} synthetic 4-option questions (syntheticQuestions(${QUESTIONS}, ${QUESTION_SET_SEED})), STAGE_BEAM N=4, ` +
      "DEFAULT preset (constrained verdicts, seeded order), question i with seed i + 1 in every configuration; " +
      `simulated H100 servers at speed ${SPEED}: 4 generators, a judge model on 2 more (the simulator's graded judge)`,
  )
  report.line(
    "judge GPU-s/q: busy GPU-seconds of the judge servers per question; images/q: images the judge servers encoded " +
      "per question; prefill tokens/q: the judge servers' prefilled tokens per question",
  )
  report.line()
  const results = yield* runConfigs(stack, questions, configs, () => stack.judges, CONCURRENCY)
  const baseline = results[0]!
  const stepsOf = (result: (typeof results)[number]) => result.outcomes.flatMap((outcome) => outcome.steps)
  const baseSteps = stepsOf(baseline)
  const baseBest = { successes: baseSteps.filter((step) => step.best).length, trials: baseSteps.length }
  const rows = results.map((result) => {
    const steps = stepsOf(result)
    const best = steps.filter((step) => step.best).length
    const ci = wilson(best, steps.length)
    const diff = differenceInterval({ successes: best, trials: steps.length }, baseBest)
    const correct = result.outcomes.filter((outcome) => outcome.correct).length
    return [
      result.config.label,
      `${percent(best / steps.length)} [${percent(ci.low)}, ${percent(ci.high)}]`,
      result === baseline
        ? ""
        : `${diff.diff >= 0 ? "+" : ""}${(100 * diff.diff).toFixed(1)} pp [${(100 * diff.low).toFixed(1)}, ${(100 * diff.high).toFixed(1)}]`,
      percent(correct / result.outcomes.length),
      fixed(result.gpuSeconds, 3),
      fixed(result.gpuSeconds / baseline.gpuSeconds, 2),
      fixed(result.counters.imagesEncoded / questions.length, 1),
      fixed(result.counters.prefillTokens / questions.length, 0),
      String(result.outcomes.filter((outcome) => outcome.failed).length),
    ]
  })
  report.table(
    [
      "judge input",
      "latent best [95% CI]",
      "vs reference",
      "answers correct",
      "judge GPU-s/q",
      "x ref",
      "images/q",
      "prefill tokens/q",
      "failed",
    ],
    rows,
  )
  report.line()
  report.line(
    "The simulator's judge decides from the texts alone (vllm-sim content/judge.ts: perceived latent quality; the image " +
      "only costs prefill and the vision encoder), so on it leaving the image out can only change cost, not selection " +
      "(with the same seeds the verdicts come out the same). What the image is worth to a judge's choice needs the real " +
      "model (stagebeam eval on a VLMEvalKit set per configuration).",
  )
  report.line(`saved to ${report.save()}`)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
