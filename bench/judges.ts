/**
 * Judging under a position-biased judge, on the simulator's synthetic multiple-choice set, through the gateway: how
 * often each STAGE_BEAM step keeps its latent best candidate, and what the judging costs on the judge's own GPUs, for
 * the reference's free-text verdicts in the tournament's order, a seeded order, both orders, K=3 votes, constrained
 * verdicts with their margin (one order and both), and a reward model. bench/swires.ts compares the strategies end to
 * end. Printed, not asserted. Run: node --conditions=@stagebeam/source bench/judges.ts (JUDGES_QUESTIONS=N for another size)
 */
import { syntheticQuestions } from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { type JudgingConfig, runConfigs, type Search } from "./lib/judging.ts"
import { fixed, makeReport, percent } from "./lib/report.ts"
import { rewardModels, startStack } from "./lib/stack.ts"
import { differenceInterval, mean, meanInterval, wilson } from "./lib/stats.ts"

const QUESTIONS = Number(process.env.JUDGES_QUESTIONS ?? 150)
const QUESTION_SET_SEED = 11
const SPEED = 1000 // content does not depend on speed
const CONCURRENCY = 16
const CANDIDATES = 4
/** The judge's position bias: this share of its answers name response 1 whatever the texts. */
const POSITION_BIAS = 0.4
/** The reward model's per-text error relative to its signal (vllm-sim's rewardNoise, its default). */
const REWARD_NOISE = 0.5

const stageBeam: Search = { strategy: "STRATEGY_STAGE_BEAM", candidatesPerStage: CANDIDATES }
const freeText: Search = { ...stageBeam, verdict: "VERDICT_MODE_FREE_TEXT" }
const choice: Search = { ...stageBeam, verdict: "VERDICT_MODE_CHOICE" }

const configs: ReadonlyArray<JudgingConfig> = [
  {
    label: "free text, tournament order (reference)",
    search: { ...freeText, matchOrder: "MATCH_ORDER_AS_PAIRED", unclearVerdict: "UNCLEAR_VERDICT_SECOND" },
    judge: "model",
  },
  { label: "free text, seeded order", search: { ...freeText, matchOrder: "MATCH_ORDER_SEEDED" }, judge: "model" },
  { label: "free text, both orders", search: freeText, judge: "model", bothOrders: true },
  {
    label: "free text, K=3 votes",
    search: { ...freeText, matchOrder: "MATCH_ORDER_SEEDED", votes: 3 },
    judge: "model",
  },
  { label: "constrained + margin (DEFAULT)", search: { ...choice, matchOrder: "MATCH_ORDER_SEEDED" }, judge: "model" },
  { label: "constrained + margin, both orders", search: choice, judge: "model", bothOrders: true },
  { label: "reward model (pointwise)", search: stageBeam, judge: "reward" },
]

const report = makeReport("judges")

const interval = (low: number, high: number) => `[${percent(low)}, ${percent(high)}]`
const meanWithInterval = (values: ReadonlyArray<number>, digits: number) => {
  const ci = meanInterval(values)
  return `${fixed(mean(values), digits)} [${fixed(ci.low, digits)}, ${fixed(ci.high, digits)}]`
}
const signed = (diff: { diff: number; low: number; high: number }) =>
  `${diff.diff >= 0 ? "+" : ""}${(100 * diff.diff).toFixed(1)} pp [${(100 * diff.low).toFixed(1)}, ${(100 * diff.high).toFixed(1)}]`

const program = Effect.gen(function* () {
  // A separate judge pool, so that the judging's GPU cost is its own servers' busy time; the reward model likewise.
  const stack = yield* startStack({
    generators: Array.from({ length: 4 }, (_, i) => ({ speed: SPEED, seed: i + 1 })),
    judges: Array.from({ length: 2 }, (_, i) => ({
      speed: SPEED,
      seed: 20 + i,
      model: "judge-model",
      positionBias: POSITION_BIAS,
    })),
    rewards: rewardModels(2, SPEED, REWARD_NOISE),
    settings: {
      judges: { model: { kind: "pairwise", pool: "judge" }, reward: { kind: "reward", pool: "reward" } },
      defaultJudge: "model",
    },
  })
  const questions = syntheticQuestions(QUESTIONS, QUESTION_SET_SEED)
  report.line(
    `${QUESTIONS} synthetic 4-option questions (syntheticQuestions(${QUESTIONS}, ${QUESTION_SET_SEED})), STAGE_BEAM N=${CANDIDATES}, ` +
      `the DEFAULT preset but for the judging rules below; question i uses seed i + 1 in every configuration; simulated servers at ` +
      `speed ${SPEED} (H100 profile): 4 generators, a judge model on 2 more, a reward model on 2 more`,
  )
  report.line(
    "the judge is the simulator's graded judge (its default: each text's quality misjudged by a fixed error of 0.15, belief " +
      `sigmoid(8 × perceived difference); sampled verdicts right about 80% of the time, the most likely answer 86%) with position bias ${POSITION_BIAS}: ${percent(POSITION_BIAS, 0)} of its answers name ` +
      `response 1 whatever the texts, and its logprobs carry that too; the reward model's scores follow latent quality ` +
      `(rewardNoise ${REWARD_NOISE})`,
  )
  report.line(
    '"latent best": the step kept the candidate of highest latent quality among its distinct valid candidates (steps with one ' +
      "text left out); judge GPU-s: busy GPU-seconds of the judge's (or the reward model's) servers per question, under the " +
      "concurrency; intervals are 95% (Wilson for proportions, normal for means)",
  )
  report.line()
  const results = yield* runConfigs(
    stack,
    questions,
    configs,
    (config) => (config.judge === "reward" ? stack.rewards : stack.judges),
    CONCURRENCY,
  )
  const baseline = results[0]!
  const baseSteps = baseline.outcomes.flatMap((outcome) => outcome.steps)
  const baseBest = { successes: baseSteps.filter((step) => step.best).length, trials: baseSteps.length }
  const rows = results.map(({ config, outcomes, gpuSeconds }) => {
    const steps = outcomes.flatMap((outcome) => outcome.steps)
    const best = steps.filter((step) => step.best).length
    const ci = wilson(best, steps.length)
    const correct = outcomes.filter((outcome) => outcome.correct).length
    const accuracy = wilson(correct, outcomes.length)
    return [
      config.label,
      `${best}/${steps.length}`,
      percent(best / steps.length),
      interval(ci.low, ci.high),
      config === baseline.config ? "" : signed(differenceInterval({ successes: best, trials: steps.length }, baseBest)),
      `${percent(correct / outcomes.length)} ${interval(accuracy.low, accuracy.high)}`,
      fixed(gpuSeconds, 2),
      fixed(gpuSeconds / baseline.gpuSeconds, 2),
      meanWithInterval(
        outcomes.map((outcome) => outcome.judgeCalls + outcome.scoringCalls),
        1,
      ),
      fixed(mean(outcomes.map((outcome) => outcome.margins)), 2),
      fixed(mean(outcomes.map((outcome) => outcome.coins)), 2),
      String(outcomes.filter((outcome) => outcome.failed).length),
    ]
  })
  report.table(
    [
      "judging",
      "latent best",
      "share",
      "95% CI",
      "vs reference (95% CI)",
      "answers correct [95% CI]",
      "judge GPU-s/q",
      "x ref",
      "judge calls/q [95% CI]",
      "by margin/q",
      "coins/q",
      "failed",
    ],
    rows,
  )
  report.line()
  report.line(
    "judge calls count verdicts (a re-ask and each vote count) or, for the reward model, scoring calls (one per candidate); " +
      '"by margin" and "coins" count matches the margins or a coin decided. Difference intervals ignore the pairing by step, ' +
      "so they are conservative.",
  )
  report.line(`saved to ${report.save()}`)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
