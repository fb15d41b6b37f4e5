// What the judging benchmarks share: a configuration (search options and a judge by name), what one call tells of
// its judging (did each step keep its latent best candidate?), and running a configuration over a question set.
import type { ReasonRequest, ReasonResponse__Output } from "@stagebeam/proto"
import {
  isConclusionCorrect,
  parseQuestion,
  perceivedMerit,
  type RunningSimulator,
  type SyntheticQuestion,
} from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { type Counters, difference, readCounters } from "./counters.ts"
import { benchImage } from "./image.ts"
import type { Stack } from "./stack.ts"

export type Search = NonNullable<ReasonRequest["search"]>

export interface JudgingConfig {
  readonly label: string
  readonly search: Search
  /** The judge, by its declared name. */
  readonly judge: string
  readonly bothOrders?: boolean
}

export interface StepOutcome {
  /** The chosen candidate has the highest latent quality among the step's distinct valid candidates. */
  readonly best: boolean
}

export interface Outcome {
  readonly correct: boolean
  /** The call failed (counted as wrong). */
  readonly failed: boolean
  readonly steps: ReadonlyArray<StepOutcome>
  readonly judgeCalls: number
  readonly scoringCalls: number
  readonly coins: number
  readonly margins: number
  /** SWIRES: passes back to the captions. */
  readonly retraces: number
}

/**
 * Each judged step of a call: did it keep the latent best of its candidates? The latent quality is what the
 * simulator's judges perceive without error (perceivedMerit of the text, read from the trace; no answer key); steps
 * whose valid candidates are all one text are skipped.
 */
const stepsOf = (question: string, response: ReasonResponse__Output): ReadonlyArray<StepOutcome> => {
  const parsed = parseQuestion(question)
  const chosen = response.trace.flatMap((event) =>
    event.stepChosen && (event.stepChosen.by === "TOURNAMENT" || event.stepChosen.by === "SCORE")
      ? [event.stepChosen]
      : [],
  )
  return chosen.flatMap((step) => {
    const candidates = response.trace.flatMap((event) =>
      event.candidate?.step === step.step && event.candidate.valid ? [event.candidate] : [],
    )
    const lastAttempt = Math.max(...candidates.map((candidate) => candidate.attempt))
    const pool = candidates.filter((candidate) => candidate.attempt === lastAttempt)
    if (new Set(pool.map((candidate) => candidate.text)).size < 2) return []
    const quality = (text: string) => perceivedMerit(text, parsed, undefined)
    const best = Math.max(...pool.map((candidate) => quality(candidate.text)))
    return [{ best: quality(step.text) >= best - 1e-12 }]
  })
}

const outcomeOf = (question: string, response: ReasonResponse__Output): Outcome => {
  const matches = response.trace.flatMap((event) => (event.match ? [event.match] : []))
  return {
    correct: isConclusionCorrect(question, response.conclusion) === true,
    failed: false,
    steps: stepsOf(question, response),
    judgeCalls: response.usage?.judgeCalls ?? 0,
    scoringCalls: response.usage?.scoringCalls ?? 0,
    coins: matches.filter((match) => match.decidedBy === "COIN").length,
    margins: matches.filter((match) => match.decidedBy === "MARGIN").length,
    retraces: response.trace.filter((event) => event.retraced).length,
  }
}

const failed: Outcome = {
  correct: false,
  failed: true,
  steps: [],
  judgeCalls: 0,
  scoringCalls: 0,
  coins: 0,
  margins: 0,
  retraces: 0,
}

export interface ConfigResult {
  readonly config: JudgingConfig
  readonly outcomes: ReadonlyArray<Outcome>
  /** Busy GPU-seconds per question of the servers `costServers` names. */
  readonly gpuSeconds: number
  /** Everything those servers counted over the configuration's questions. */
  readonly counters: Counters
}

/** Each configuration over every question (question i with seed i + 1), its GPU cost read from the simulators. */
export const runConfigs = (
  stack: Stack,
  questions: ReadonlyArray<SyntheticQuestion>,
  configs: ReadonlyArray<JudgingConfig>,
  costServers: (config: JudgingConfig) => ReadonlyArray<RunningSimulator>,
  concurrency: number,
) =>
  Effect.forEach(configs, (config) =>
    Effect.gen(function* () {
      const servers = costServers(config)
      const before = readCounters(servers)
      const started = performance.now()
      const outcomes = yield* Effect.forEach(
        questions,
        (q, i) =>
          stack
            .reason({
              question: q.question,
              image: { data: benchImage },
              search: { ...config.search, seed: String(i + 1) },
              judge: { name: config.judge, bothOrders: config.bothOrders === true },
              includeTrace: true,
            })
            .pipe(
              Effect.map((response) => outcomeOf(q.question, response)),
              Effect.orElseSucceed(() => failed),
            ),
        { concurrency },
      )
      const cost = difference(readCounters(servers), before)
      console.log(`  ${config.label}: ${((performance.now() - started) / 1000).toFixed(1)} s wall`)
      return {
        config,
        outcomes,
        gpuSeconds: cost.busyGpuSeconds / questions.length,
        counters: cost,
      } satisfies ConfigResult
    }),
  )
