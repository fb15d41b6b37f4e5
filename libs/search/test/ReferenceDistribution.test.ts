import { assert, describe, it } from "@effect/vitest"
import { referenceView, type StepKind } from "@stagebeam/cot"
import { Effect, Layer } from "effect"
import {
  decodeSearchRequest,
  type GeneratedText,
  type GenerationRequest,
  runSearch,
  type SearchRequestInput,
} from "../src/index.ts"
import { makeFakeGenerator, makeFakeJudge } from "../src/testing.ts"

/**
 * The REFERENCE preset against an exact computation of the reference's selection loop (simple_inference.py: while
 * more than one candidate is left, pop one at random, pop another at random, judge them — the pre-check first at
 * REASONING — and put the winner back). The exact distribution enumerates every draw and outcome; the preset runs
 * `runs` seeded searches (RUNS unless the case says) through runSearch with a fake judge of chosen bias. A preset matches when every candidate's
 * share is within TOLERANCE_SE standard errors of its exact probability (runs are seeded, so the test is
 * deterministic; a correct implementation would fail one check about once in 16,000). The same check must fail for
 * the configurations that differ from the reference (the default, or the one deviation named).
 */

const RUNS = 4000
const TOLERANCE_SE = 4

/** The judge and pre-check of a case, as probabilities of what the model answers. */
interface Model {
  /** P(the answer contains "I choose response 1") given the texts the prompt shows, when the answer is not unclear. */
  readonly preference: (shown: ReadonlyArray<string>) => number
  /** P(the answer names neither response): the reference then takes the second. */
  readonly unclearRate: number
  /** P(the pre-check answers "incorrect") for a reasoning text. */
  readonly incorrect: (reasoning: string) => number
}

/** One candidate of a case: a label for the outcome, and what the reference's judge is shown of it. */
interface Entrant {
  readonly label: string
  readonly judged: string | undefined
}

/** P(the first entrant wins a match) under the reference's judge() (the pre-check only for REASONING). */
const firstWins = (kind: StepKind, model: Model, first: Entrant, second: Entrant): number => {
  const shown = [first.judged, second.judged].filter((text): text is string => text !== undefined)
  const saysFirst = (1 - model.unclearRate) * model.preference(shown)
  if (kind !== "REASONING") return saysFirst
  if (shown.length < 2) throw new Error("the reference crashes on this match: not an exact case")
  const firstIncorrect = model.incorrect(shown[0]!)
  const secondIncorrect = model.incorrect(shown[1]!)
  return (1 - firstIncorrect) * (secondIncorrect + (1 - secondIncorrect) * saysFirst)
}

/** The exact distribution of the reference loop's winner over labels, by enumeration of every draw. */
const exactReference = (kind: StepKind, model: Model, pool: ReadonlyArray<Entrant>): Map<string, number> => {
  const memo = new Map<string, Map<string, number>>()
  const solve = (entrants: ReadonlyArray<Entrant>): Map<string, number> => {
    if (entrants.length === 1) return new Map([[entrants[0]!.label, 1]])
    const key = entrants
      .map((entrant) => entrant.label)
      .sort()
      .join("|")
    const known = memo.get(key)
    if (known !== undefined) return known
    const result = new Map<string, number>()
    const n = entrants.length
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) continue
        // candidates.pop(randint(n)), then candidates.pop(randint(n − 1)): every ordered pair equally likely.
        const draw = 1 / (n * (n - 1))
        const rest = entrants.filter((_, k) => k !== i && k !== j)
        const p = firstWins(kind, model, entrants[i]!, entrants[j]!)
        for (const [winner, weight] of [
          [entrants[i]!, p],
          [entrants[j]!, 1 - p],
        ] as const) {
          if (weight === 0) continue
          for (const [label, q] of solve([...rest, winner])) {
            result.set(label, (result.get(label) ?? 0) + draw * weight * q)
          }
        }
      }
    }
    memo.set(key, result)
    return result
  }
  return solve(pool)
}

// The stages every candidate of a case shares, so only the searched step has a choice.
const SUMMARY = "<SUMMARY>I will count the apples.</SUMMARY>"
const CAPTION = "\n\n<CAPTION>Three red apples on a table.</CAPTION>"
const REASONING = "\n\n<REASONING>There are 3 apples, so B.</REASONING>"
const CONCLUSION = "\n\n<CONCLUSION>B</CONCLUSION>"

const sampleOf = (text: string, cut = false): GeneratedText => ({
  text,
  finishReason: cut ? "length" : "stop",
  completionTokens: 5,
})

interface Case {
  readonly name: string
  readonly strategy: "BEST_OF_N" | "STAGE_BEAM"
  /** The step searched: ALL for BEST_OF_N, a stage for STAGE_BEAM. */
  readonly kind: StepKind
  /** The candidates of the searched step: label → (text, cut off by length?). */
  readonly candidates: ReadonlyArray<{ readonly label: string; readonly text: string; readonly cut?: boolean }>
  readonly model: Model
  /** Seeded searches per configuration (default RUNS). */
  readonly runs?: number
}

const prefixOf = (kind: StepKind): string =>
  kind === "CAPTION"
    ? SUMMARY
    : kind === "REASONING"
      ? SUMMARY + CAPTION
      : kind === "CONCLUSION"
        ? SUMMARY + CAPTION + REASONING
        : ""

/** The generator of a case: its candidates at the searched step, one shared text at every other. */
const samplesFor = (testCase: Case) => (request: GenerationRequest) => {
  const stop = request.stop[0] ?? ""
  const searched = testCase.kind === "ALL" ? "</CONCLUSION>" : `</${testCase.kind}>`
  if (stop === searched) return testCase.candidates.map((c) => sampleOf(c.text, c.cut))
  const shared: Record<string, string> = {
    "</SUMMARY>": SUMMARY,
    "</CAPTION>": CAPTION,
    "</REASONING>": REASONING,
    "</CONCLUSION>": CONCLUSION,
  }
  return Array.from({ length: request.n }, () => sampleOf(shared[stop] ?? CONCLUSION))
}

/** The label of the candidate a search chose at the searched step. */
const chosenLabel = (testCase: Case, result: Effect.Success<ReturnType<typeof runSearch>>): string => {
  const step = testCase.kind === "ALL" ? 0 : ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"].indexOf(testCase.kind)
  const chosen = result.trace.find((event) => event._tag === "StepChosen" && event.step === step)
  const index = chosen?._tag === "StepChosen" ? chosen.index : -1
  return testCase.candidates[index]?.label ?? "?"
}

interface Measured {
  readonly shares: Map<string, number>
  readonly runs: number
}

/** The chosen labels' shares over the case's seeded searches under `options`. */
const measure = (testCase: Case, options: Partial<SearchRequestInput>): Measured => {
  const runs = testCase.runs ?? RUNS
  const generator = makeFakeGenerator({ samples: samplesFor(testCase) })
  const judge = makeFakeJudge({
    preference: testCase.model.preference,
    unclearRate: testCase.model.unclearRate,
    incorrectProbability: testCase.model.incorrect,
  })
  const layer = Layer.merge(generator.layer, judge.layer)
  const counts = new Map<string, number>()
  for (let seed = 1; seed <= runs; seed++) {
    const result = Effect.runSync(
      decodeSearchRequest({
        question: "How many apples?",
        imageUrl: "http://image",
        strategy: testCase.strategy,
        candidates: testCase.candidates.length,
        seed,
        ...options,
      }).pipe(Effect.flatMap(runSearch), Effect.provide(layer)),
    )
    const label = chosenLabel(testCase, result)
    counts.set(label, (counts.get(label) ?? 0) + 1)
  }
  return { shares: new Map([...counts].map(([label, count]) => [label, count / runs])), runs }
}

/** The largest distance, in standard errors of the runs, between measured shares and exact probabilities. */
const worstDeviation = (exact: Map<string, number>, { shares, runs }: Measured): number => {
  const labels = new Set([...exact.keys(), ...shares.keys()])
  let worst = 0
  for (const label of labels) {
    const p = exact.get(label) ?? 0
    const observed = shares.get(label) ?? 0
    // A label the reference never picks: any pick at all is a failure.
    const se = Math.sqrt(Math.max(p * (1 - p), 1e-12) / runs)
    worst = Math.max(worst, Math.abs(observed - p) / se)
  }
  return worst
}

const format = (shares: Map<string, number> | Measured) =>
  [...(shares instanceof Map ? shares : shares.shares)]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, p]) => `${label} ${p.toFixed(4)}`)
    .join(", ")

/**
 * Bradley–Terry strengths with a position bias: a share |bias| of the answers name one position whatever the texts
 * (response 1 for a positive bias, response 2 for a negative one); `onlyOne` when the prompt shows one response.
 */
const biasedStrength =
  (strength: Readonly<Record<string, number>>, bias: number, onlyOne = 0.5) =>
  (shown: ReadonlyArray<string>): number => {
    if (shown.length < 2) return onlyOne
    const a = strength[shown[0]!] ?? 1
    const b = strength[shown[1]!] ?? 1
    return Math.max(0, bias) + (1 - Math.abs(bias)) * (a / (a + b))
  }

const answer = (letter: string) => `${SUMMARY}${CAPTION}${REASONING}\n\n<CONCLUSION>${letter}</CONCLUSION>`

const cases = {
  duplicates: {
    name: "duplicates: A, A, B, C with a coin-flip judge (BEST_OF_N)",
    strategy: "BEST_OF_N",
    kind: "ALL",
    candidates: ["A", "A", "B", "C"].map((label) => ({ label, text: answer(label) })),
    model: { preference: () => 0.5, unclearRate: 0, incorrect: () => 0 },
  },
  positionBias: {
    name: "position bias: A of strength 20 against B, C, D, E of strength 1, 30% of answers name response 2 whatever the texts",
    strategy: "BEST_OF_N",
    kind: "ALL",
    candidates: ["A", "B", "C", "D", "E"].map((label) => ({ label, text: answer(label) })),
    model: { preference: biasedStrength({ [answer("A")]: 20 }, -0.3), unclearRate: 0, incorrect: () => 0 },
    runs: 8000,
  },
  unclear: {
    name: "unclear verdicts: A, B, C of strengths 4, 2, 1, half the answers name neither response, 30% name response 1 whatever the texts",
    strategy: "BEST_OF_N",
    kind: "ALL",
    candidates: ["A", "B", "C"].map((label) => ({ label, text: answer(label) })),
    model: {
      preference: biasedStrength({ [answer("A")]: 4, [answer("B")]: 2, [answer("C")]: 1 }, 0.3),
      unclearRate: 0.5,
      incorrect: () => 0,
    },
  },
  preCheck: {
    name: "the reasoning pre-check: R1, R2, R3, R3 checked incorrect with probability 0.7, 0.2, 0.5, judge strengths 4, 1, 2 (STAGE_BEAM)",
    strategy: "STAGE_BEAM",
    kind: "REASONING",
    candidates: [
      { label: "R1", text: "\n\n<REASONING>I count 4 apples, so C.</REASONING>" },
      { label: "R2", text: "\n\n<REASONING>3 + 1 = 5, so D.</REASONING>" },
      { label: "R3", text: "\n\n<REASONING>There are 3 apples, so B.</REASONING>" },
      { label: "R3", text: "\n\n<REASONING>There are 3 apples, so B.</REASONING>" },
    ],
    model: {
      preference: biasedStrength(
        { "I count 4 apples, so C.": 4, "3 + 1 = 5, so D.": 1, "There are 3 apples, so B.": 2 },
        0.2,
      ),
      unclearRate: 0,
      incorrect: (reasoning: string) =>
        reasoning.startsWith("I count") ? 0.7 : reasoning.startsWith("3 + 1") ? 0.2 : 0.5,
    },
  },
  malformed: {
    name: "a malformed candidate: conclusions A, B and M (cut off before </CONCLUSION>); a judge shown one response picks it 80% of the time",
    strategy: "STAGE_BEAM",
    kind: "CONCLUSION",
    candidates: [
      { label: "A", text: "\n\n<CONCLUSION>A</CONCLUSION>" },
      { label: "B", text: "\n\n<CONCLUSION>B</CONCLUSION>" },
      { label: "M", text: "\n\n<CONCLUSION>The answer", cut: true },
    ],
    model: { preference: biasedStrength({ A: 1, B: 3 }, 0.1, 0.8), unclearRate: 0, incorrect: () => 0 },
  },
} satisfies Record<string, Case>

/** The reference's view of each candidate, exactly as the reference reads it (the preset must agree). */
const exactFor = (testCase: Case) =>
  exactReference(
    testCase.kind,
    testCase.model,
    testCase.candidates.map((c) => ({
      label: c.label,
      judged: referenceView(testCase.kind, prefixOf(testCase.kind) + c.text).judged,
    })),
  )

describe("the REFERENCE preset reproduces the reference's selection distribution", () => {
  it("the exact computation: A, A, B, C under a coin-flip judge gives A one half", () => {
    const exact = exactFor(cases.duplicates)
    assert.closeTo(exact.get("A")!, 0.5, 1e-12)
    assert.closeTo(exact.get("B")!, 0.25, 1e-12)
  })

  for (const testCase of Object.values(cases)) {
    it(testCase.name, () => {
      const exact = exactFor(testCase)
      const measured = measure(testCase, { preset: "REFERENCE" })
      const worst = worstDeviation(exact, measured)
      assert.isBelow(worst, TOLERANCE_SE, `exact ${format(exact)}; REFERENCE ${format(measured)}`)
    })
  }
})

describe("the same comparison fails where a configuration differs from the reference", () => {
  const differing: ReadonlyArray<readonly [Case, string, Partial<SearchRequestInput>]> = [
    [cases.duplicates, "duplicates MERGE", { preset: "REFERENCE", duplicates: "MERGE" }],
    // With each match's order drawn from the seed (the default), a knockout under this bias comes within noise of
    // the reference's pool; in the bracket's own order it does not.
    [cases.positionBias, "the default preset in the bracket's order", { matchOrder: "AS_PAIRED" }],
    [cases.positionBias, "KNOCKOUT", { preset: "REFERENCE", tournament: "KNOCKOUT" }],
    [cases.unclear, "the default preset", {}],
    [
      cases.unclear,
      "unclear verdicts asked again, order swapped",
      { preset: "REFERENCE", unclearVerdict: "ASK_SWAPPED" },
    ],
    [cases.preCheck, "the default preset", {}],
    [cases.preCheck, "the pre-check ONCE", { preset: "REFERENCE", reasoningCheck: "ONCE" }],
    [cases.preCheck, "no pre-check", { preset: "REFERENCE", reasoningCheck: "OFF" }],
    [cases.malformed, "the default preset", {}],
    [cases.malformed, "malformed candidates dropped", { preset: "REFERENCE", malformed: "DROP" }],
  ]
  for (const [testCase, label, options] of differing) {
    it(`${label}: ${testCase.name.split(":")[0]}`, () => {
      const exact = exactFor(testCase)
      const measured = measure(testCase, options)
      const worst = worstDeviation(exact, measured)
      assert.isAbove(worst, TOLERANCE_SE, `exact ${format(exact)}; ${label} ${format(measured)}`)
    })
  }

  it("the default agrees with the reference on duplicates (identical texts keep their weight)", () => {
    const worst = worstDeviation(exactFor(cases.duplicates), measure(cases.duplicates, {}))
    assert.isBelow(worst, TOLERANCE_SE)
  })
})
