/**
 * The selection rules on the simulator's synthetic multiple-choice set, through the gateway: accuracy and judge-model
 * calls per question for the REFERENCE preset, the DEFAULT preset, and REFERENCE with each of the default's
 * deviations alone (plus duplicates MERGE, today's merging, as an option on both presets). A second part cuts the
 * generation at fewer tokens so that some candidates are malformed, where the malformed rule matters. Printed, not
 * asserted. Run: node --conditions=@stagebeam/source bench/selection.ts
 */
import type { ReasonRequest, ReasonResponse__Output } from "@stagebeam/proto"
import { isConclusionCorrect, syntheticQuestions } from "@stagebeam/vllm-sim"
import { Effect } from "effect"
import { benchImage } from "./lib/image.ts"
import { fixed, makeReport, percent } from "./lib/report.ts"
import { startStack } from "./lib/stack.ts"
import { differenceInterval, mean, meanInterval, wilson } from "./lib/stats.ts"

const QUESTIONS = Number(process.env.SELECTION_QUESTIONS ?? 300)
const QUESTION_SET_SEED = 11
const SERVERS = 4
const SPEED = 1000 // content does not depend on speed
const CONCURRENCY = 16
const CANDIDATES = 4
/** Part 2: tokens per generation call; the simulator's reasoning stages run 58–105 tokens, so about 1 in 4 is cut. */
const CUT_MAX_TOKENS = 85

type Search = NonNullable<ReasonRequest["search"]>

interface Config {
  readonly label: string
  readonly search: Search
}

const reference: Config = { label: "REFERENCE", search: { preset: "PRESET_REFERENCE" } }
const defaults: Config = { label: "DEFAULT", search: { preset: "PRESET_DEFAULT" } }
const alone = (label: string, search: Search): Config => ({
  label: `REFERENCE + ${label}`,
  search: { preset: "PRESET_REFERENCE", ...search },
})

const part1: ReadonlyArray<Config> = [
  reference,
  defaults,
  alone("tournament KNOCKOUT", { tournament: "TOURNAMENT_KNOCKOUT" }),
  alone("reasoning check OFF", { reasoningCheckMode: "REASONING_CHECK_OFF" }),
  alone("reasoning check ONCE", { reasoningCheckMode: "REASONING_CHECK_ONCE" }),
  alone("unclear ASK_SWAPPED_THEN_COIN", { unclearVerdict: "UNCLEAR_VERDICT_ASK_SWAPPED_THEN_COIN" }),
  alone("malformed DROP", { malformed: "MALFORMED_DROP" }),
  alone("wording CORRECTED", { promptWording: "PROMPT_WORDING_CORRECTED" }),
  alone("match order SEEDED", { matchOrder: "MATCH_ORDER_SEEDED" }),
  alone("verdict CHOICE", { verdict: "VERDICT_MODE_CHOICE" }),
  alone("duplicates MERGE", { duplicates: "DUPLICATES_MERGE" }),
  { label: "DEFAULT + duplicates MERGE", search: { preset: "PRESET_DEFAULT", duplicates: "DUPLICATES_MERGE" } },
]

const part2: ReadonlyArray<Config> = [
  reference,
  alone("malformed DROP", { malformed: "MALFORMED_DROP" }),
  defaults,
  { label: "DEFAULT + malformed KEEP", search: { preset: "PRESET_DEFAULT", malformed: "MALFORMED_KEEP" } },
]

interface Outcome {
  readonly correct: boolean
  /** The call failed (e.g. UNAVAILABLE: no valid candidate after the resample); counted as wrong. */
  readonly failed: boolean
  readonly judgeCalls: number
  readonly checks: number
  /** Matches of two identical texts, decided by a coin: the reference would have made a judge call for each. */
  readonly coins: number
  /** Candidates that entered a tournament without their tags (malformed KEEP). */
  readonly malformedEntrants: number
  readonly malformedChosen: number
}

const outcomeOf = (question: string, response: ReasonResponse__Output): Outcome => {
  const candidates = response.trace.flatMap((event) => (event.candidate ? [event.candidate] : []))
  const chosen = new Set(
    response.trace.flatMap((event) => (event.stepChosen ? [`${event.stepChosen.step}/${event.stepChosen.index}`] : [])),
  )
  const keep = response.selection?.malformed === "KEEP"
  const malformed = candidates.filter((candidate) => !candidate.valid)
  return {
    correct: isConclusionCorrect(question, response.conclusion) === true,
    failed: false,
    judgeCalls: response.usage?.judgeCalls ?? 0,
    checks: response.usage?.correctnessChecks ?? 0,
    coins: response.trace.filter((event) => event.match?.decidedBy === "IDENTICAL").length,
    malformedEntrants: keep ? malformed.length : 0,
    // Only KEEP lets one win (DROP resamples, and a resample reuses the indexes).
    malformedChosen: keep
      ? malformed.filter((candidate) => chosen.has(`${candidate.step}/${candidate.index}`)).length
      : 0,
  }
}

const failedOutcome: Outcome = {
  correct: false,
  failed: true,
  judgeCalls: 0,
  checks: 0,
  coins: 0,
  malformedEntrants: 0,
  malformedChosen: 0,
}

const report = makeReport("selection")

const meanWithInterval = (values: ReadonlyArray<number>) => {
  const ci = meanInterval(values)
  return `${fixed(mean(values), 2)} [${fixed(ci.low, 2)}, ${fixed(ci.high, 2)}]`
}

const program = Effect.gen(function* () {
  const stack = yield* startStack({
    generators: Array.from({ length: SERVERS }, (_, i) => ({ speed: SPEED, seed: i + 1 })),
  })
  const questions = syntheticQuestions(QUESTIONS, QUESTION_SET_SEED)
  const sim = stack.generators[0]!
  report.line(
    `${QUESTIONS} synthetic 4-option questions (syntheticQuestions(${QUESTIONS}, ${QUESTION_SET_SEED})), STAGE_BEAM N=${CANDIDATES}, ` +
      `through the gateway over ${SERVERS} simulated servers (profile "${sim.profile.name}", speed ${SPEED}, self-judge, ` +
      "the default graded judge, no position bias); question i uses seed i + 1 in every configuration",
  )
  report.line(
    "judge calls = pairwise verdicts (a re-ask counts); checks = pre-check calls; coins = matches of identical texts " +
      "decided without a call (the reference makes a judge call for each); intervals are 95% (Wilson for accuracy, " +
      "normal for means)",
  )

  const run = (config: Config, maxTokens: number | undefined) =>
    Effect.forEach(
      questions,
      (q, i) =>
        stack
          .reason({
            question: q.question,
            image: { data: benchImage },
            search: {
              strategy: "STRATEGY_STAGE_BEAM",
              candidatesPerStage: CANDIDATES,
              seed: String(i + 1),
              ...(maxTokens === undefined ? {} : { sampling: { maxTokens } }),
              ...config.search,
            },
            includeTrace: true,
          })
          .pipe(
            Effect.map((response) => outcomeOf(q.question, response)),
            Effect.orElseSucceed(() => failedOutcome),
          ),
      { concurrency: CONCURRENCY },
    )

  const part = Effect.fnUntraced(function* (
    title: string,
    configs: ReadonlyArray<Config>,
    maxTokens: number | undefined,
    pairs: ReadonlyArray<readonly [string, string]>,
  ) {
    report.line()
    report.line(title)
    const results = new Map<string, ReadonlyArray<Outcome>>()
    for (const config of configs) {
      const started = performance.now()
      results.set(config.label, yield* run(config, maxTokens))
      console.log(`  ${config.label}: ${((performance.now() - started) / 1000).toFixed(1)} s wall`)
    }
    const base = results.get(reference.label)!
    const baseCount = { successes: base.filter((o) => o.correct).length, trials: base.length }
    const rows = configs.map((config) => {
      const outcomes = results.get(config.label)!
      const successes = outcomes.filter((o) => o.correct).length
      const ci = wilson(successes, outcomes.length)
      const diff = differenceInterval({ successes, trials: outcomes.length }, baseCount)
      const won = outcomes.filter((o, i) => o.correct && !base[i]!.correct).length
      const lost = outcomes.filter((o, i) => !o.correct && base[i]!.correct).length
      const isBase = config === reference
      return [
        config.label,
        `${successes}/${outcomes.length}`,
        percent(successes / outcomes.length),
        `[${percent(ci.low)}, ${percent(ci.high)}]`,
        isBase
          ? ""
          : `${diff.diff >= 0 ? "+" : ""}${(100 * diff.diff).toFixed(1)} pp [${(100 * diff.low).toFixed(1)}, ${(100 * diff.high).toFixed(1)}]`,
        isBase ? "" : `${won}/${lost}`,
        meanWithInterval(outcomes.map((o) => o.judgeCalls)),
        fixed(mean(outcomes.map((o) => o.checks)), 2),
        fixed(mean(outcomes.map((o) => o.coins)), 2),
        fixed(mean(outcomes.map((o) => o.judgeCalls + o.checks)), 2),
        ...(maxTokens === undefined
          ? []
          : [
              fixed(mean(outcomes.map((o) => o.malformedEntrants)), 2),
              fixed(mean(outcomes.map((o) => o.malformedChosen)), 2),
            ]),
        String(outcomes.filter((o) => o.failed).length),
      ]
    })
    report.table(
      [
        "configuration",
        "correct",
        "accuracy",
        "95% Wilson CI",
        "vs REFERENCE (95% Newcombe CI)",
        "won/lost vs REF",
        "judge calls/q [95% CI]",
        "checks/q",
        "coins/q",
        "judge+checks/q",
        ...(maxTokens === undefined ? [] : ["malformed entrants/q", "malformed chosen/q"]),
        "failed calls",
      ],
      rows,
    )
    for (const [label, against] of pairs) {
      const a = results.get(label)!
      const b = results.get(against)!
      const count = (outcomes: ReadonlyArray<Outcome>) => ({
        successes: outcomes.filter((o) => o.correct).length,
        trials: outcomes.length,
      })
      const diff = differenceInterval(count(a), count(b))
      const won = a.filter((o, i) => o.correct && !b[i]!.correct).length
      const lost = a.filter((o, i) => !o.correct && b[i]!.correct).length
      const calls = mean(a.map((o) => o.judgeCalls + o.checks)) - mean(b.map((o) => o.judgeCalls + o.checks))
      report.line(
        `${label} vs ${against}: ${diff.diff >= 0 ? "+" : ""}${(100 * diff.diff).toFixed(1)} pp ` +
          `[${(100 * diff.low).toFixed(1)}, ${(100 * diff.high).toFixed(1)}], won/lost ${won}/${lost}, ` +
          `${calls >= 0 ? "+" : ""}${fixed(calls, 2)} judge-model calls/q`,
      )
    }
  })

  yield* part(
    "Part 1: default sampling (2048 tokens per call: no candidate is cut on the simulator)",
    part1,
    undefined,
    [
      ["DEFAULT + duplicates MERGE", "DEFAULT"],
      ["REFERENCE + duplicates MERGE", "REFERENCE"],
    ],
  )
  yield* part(
    `Part 2: ${CUT_MAX_TOKENS} tokens per generation call (some reasoning candidates are cut off before </REASONING>)`,
    part2,
    CUT_MAX_TOKENS,
    [["DEFAULT + malformed KEEP", "DEFAULT"]],
  )
  report.line()
  report.line(
    "The difference interval ignores the pairing by question (same questions, same seeds), so it is conservative;",
  )
  report.line("won/lost counts the questions a configuration got right and REFERENCE wrong, and the reverse.")
  report.line(`saved to ${report.save()}`)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
