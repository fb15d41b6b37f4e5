/**
 * End to end on the simulator's synthetic multiple-choice set, through the gateway: accuracy of GREEDY, BEST_OF_N,
 * STAGE_BEAM (over the self-judge and over a reward model) and SWIRES (over the reward model), with 95% intervals,
 * beside their GPU cost. Printed, not asserted. Run: node --conditions=@stagebeam/source bench/swires.ts
 * (SWIRES_QUESTIONS=N for another size)
 */
import { syntheticQuestions } from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { type JudgingConfig, runConfigs, type Search } from "./lib/judging.ts"
import { fixed, makeReport, percent } from "./lib/report.ts"
import { rewardModels, startStack } from "./lib/stack.ts"
import { differenceInterval, mean, wilson } from "./lib/stats.ts"

const QUESTIONS = Number(process.env.SWIRES_QUESTIONS ?? 200)
const QUESTION_SET_SEED = 11
const SPEED = 1000 // content does not depend on speed
const CONCURRENCY = 16
const REWARD_NOISE = 0.5

const stageBeam: Search = { strategy: "STRATEGY_STAGE_BEAM", candidatesPerStage: 4 }

const configs: ReadonlyArray<JudgingConfig> = [
  { label: "GREEDY (1 sample)", search: { strategy: "STRATEGY_GREEDY" }, judge: "self" },
  {
    label: "BEST_OF_N N=4, self-judge",
    search: { strategy: "STRATEGY_BEST_OF_N", candidatesPerStage: 4 },
    judge: "self",
  },
  { label: "STAGE_BEAM N=4, self-judge", search: stageBeam, judge: "self" },
  { label: "STAGE_BEAM N=4, reward model", search: stageBeam, judge: "reward" },
  { label: "SWIRES, reward model", search: { strategy: "STRATEGY_SWIRES" }, judge: "reward" },
]

const report = makeReport("swires")

const interval = (low: number, high: number) => `[${percent(low)}, ${percent(high)}]`

const program = Effect.gen(function* () {
  const stack = yield* startStack({
    generators: Array.from({ length: 4 }, (_, i) => ({ speed: SPEED, seed: i + 1 })),
    rewards: rewardModels(2, SPEED, REWARD_NOISE),
    settings: {
      judges: { self: { kind: "pairwise", pool: "generator" }, reward: { kind: "reward", pool: "reward" } },
      defaultJudge: "self",
    },
  })
  const questions = syntheticQuestions(QUESTIONS, QUESTION_SET_SEED)
  report.line(
    `${QUESTIONS} synthetic 4-option questions (syntheticQuestions(${QUESTIONS}, ${QUESTION_SET_SEED})), question i uses seed i + 1 ` +
      `in every configuration; DEFAULT preset; simulated servers at speed ${SPEED} (H100 profile): 4 generators whose ` +
      `self-judge is the simulator's default graded judge (no position bias), and a reward model on 2 more ` +
      `(rewardNoise ${REWARD_NOISE})`,
  )
  report.line(
    "SWIRES with its defaults: 4 captions per pass, the top 2 kept, 2 reasonings each, back to the captions while the pool's " +
      "second-best score is at or below −0.243, at most 3 retraces, one conclusion for each of the 3 best reasonings",
  )
  report.line(
    "GPU-s: busy GPU-seconds of every server (generators and reward model) per question, under the concurrency; intervals are 95%",
  )
  report.line()
  const results = yield* runConfigs(stack, questions, configs, () => stack.servers, CONCURRENCY)
  const greedy = results[0]!
  const greedyCount = { successes: greedy.outcomes.filter((outcome) => outcome.correct).length, trials: QUESTIONS }
  const rows = results.map(({ config, outcomes, gpuSeconds }) => {
    const correct = outcomes.filter((outcome) => outcome.correct).length
    const ci = wilson(correct, outcomes.length)
    const diff = differenceInterval({ successes: correct, trials: outcomes.length }, greedyCount)
    const won = outcomes.filter((outcome, i) => outcome.correct && !greedy.outcomes[i]!.correct).length
    const lost = outcomes.filter((outcome, i) => !outcome.correct && greedy.outcomes[i]!.correct).length
    return [
      config.label,
      `${correct}/${outcomes.length}`,
      percent(correct / outcomes.length),
      interval(ci.low, ci.high),
      config === greedy.config
        ? ""
        : `${diff.diff >= 0 ? "+" : ""}${(100 * diff.diff).toFixed(1)} pp [${(100 * diff.low).toFixed(1)}, ${(100 * diff.high).toFixed(1)}]`,
      config === greedy.config ? "" : `${won}/${lost}`,
      fixed(gpuSeconds, 2),
      fixed(gpuSeconds / greedy.gpuSeconds, 1),
      fixed(mean(outcomes.map((outcome) => outcome.judgeCalls)), 1),
      fixed(mean(outcomes.map((outcome) => outcome.scoringCalls)), 1),
      fixed(mean(outcomes.map((outcome) => outcome.retraces)), 2),
      String(outcomes.filter((outcome) => outcome.failed).length),
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
      "GPU-s/q",
      "x GREEDY",
      "judge calls/q",
      "scoring calls/q",
      "retraces/q",
      "failed",
    ],
    rows,
  )
  report.line()
  report.line(
    "The difference interval ignores the pairing by question (same questions, same seeds), so it is conservative; won/lost " +
      "counts the questions a strategy got right and GREEDY wrong, and the reverse.",
  )
  report.line(`saved to ${report.save()}`)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
