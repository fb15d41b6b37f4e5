import {
  Duplicates,
  Malformed,
  MatchOrder,
  Preset,
  ReasoningCheck,
  Tournament,
  UnclearVerdict,
  VerdictMode,
  Votes,
  Wording,
} from "@stagebeam/cot"
import { Schema } from "effect"

/** How a search picks one candidate among N: the rules a preset sets and a request may override one by one. */
export const SelectionRules = Schema.Struct({
  tournament: Tournament,
  duplicates: Duplicates,
  reasoningCheck: ReasoningCheck,
  unclearVerdict: UnclearVerdict,
  malformed: Malformed,
  wording: Wording,
  /** The order a judge sees each match in. */
  matchOrder: MatchOrder,
  /** How a pairwise judge answers. */
  verdict: VerdictMode,
  /** Verdicts per match (majority). */
  votes: Votes,
  /** Every verdict in both orders: consistent verdicts win, else the larger margin, else a seeded coin. */
  bothOrders: Schema.Boolean,
})
export type SelectionRules = typeof SelectionRules.Type
export type SelectionRule = keyof SelectionRules

/**
 * REFERENCE reproduces the selection of LLaVA-CoT's simple_inference.py: its random-pair pool, the pre-check in every
 * REASONING match, "second" for anything without "I choose response 1", malformed candidates kept, its prompt
 * strings. Identical texts are decided by a seeded coin instead of the judge call the reference makes: either wins
 * with probability 1/2 in the reference too (the judge sees the same prompt whichever is shown first, and the order
 * is random), so the distribution is the reference's with fewer calls.
 *
 * DEFAULT keeps stagebeam's improvements, each switchable on its own (README, "Selection"): parallel KNOCKOUT
 * rounds, no pre-check (4–5 more calls per question at N=4 with no measured gain, bench/selection.ts), unclear
 * verdicts asked again with the order swapped and then a seeded coin, malformed candidates dropped and the stage
 * resampled, corrected prompts, each match's order drawn from the seed, and verdicts constrained to the two labels
 * with their logprob margin (free text where the judge's servers cannot constrain).
 */
export const PRESETS: Readonly<Record<Preset, SelectionRules>> = {
  DEFAULT: {
    tournament: "KNOCKOUT",
    duplicates: "WEIGHT",
    reasoningCheck: "OFF",
    unclearVerdict: "ASK_SWAPPED_THEN_COIN",
    malformed: "DROP",
    wording: "CORRECTED",
    matchOrder: "SEEDED",
    verdict: "CHOICE",
    votes: 1,
    bothOrders: false,
  },
  REFERENCE: {
    tournament: "SEQUENTIAL",
    duplicates: "WEIGHT",
    reasoningCheck: "PER_MATCH",
    unclearVerdict: "SECOND",
    malformed: "KEEP",
    wording: "REFERENCE",
    matchOrder: "AS_PAIRED",
    verdict: "FREE_TEXT",
    votes: 1,
    bothOrders: false,
  },
}

export const SELECTION_RULES: ReadonlyArray<SelectionRule> = [
  "tournament",
  "duplicates",
  "reasoningCheck",
  "unclearVerdict",
  "malformed",
  "wording",
  "matchOrder",
  "verdict",
  "votes",
  "bothOrders",
]

export const Selection = Schema.Struct({
  preset: Preset,
  rules: SelectionRules,
  /** The rules whose value is not the reference's, in SELECTION_RULES order; empty = the reference's selection. */
  deviations: Schema.Array(Schema.Literals(SELECTION_RULES)),
})
export type Selection = typeof Selection.Type

/** What a request asks for: a preset, and any rule set explicitly (which wins over the preset). */
export interface SelectionRequest {
  readonly preset: Preset
  readonly tournament?: Tournament | undefined
  readonly duplicates?: Duplicates | undefined
  /** true: on, with the preset's rule (ONCE when the preset has it off); false: OFF. */
  readonly reasoningCheck?: ReasoningCheck | boolean | undefined
  readonly unclearVerdict?: UnclearVerdict | undefined
  readonly malformed?: Malformed | undefined
  readonly wording?: Wording | undefined
  readonly matchOrder?: MatchOrder | undefined
  readonly verdict?: VerdictMode | undefined
  readonly votes?: number | undefined
  readonly bothOrders?: boolean | undefined
}

const checkRule = (preset: SelectionRules, asked: SelectionRequest["reasoningCheck"]): ReasoningCheck => {
  if (asked === undefined) return preset.reasoningCheck
  if (asked === true) return preset.reasoningCheck === "OFF" ? "ONCE" : preset.reasoningCheck
  if (asked === false) return "OFF"
  return asked
}

/** The rules in force: the preset's, overridden by every rule the request sets, and how they differ from the reference. */
export const resolveSelection = (request: SelectionRequest): Selection => {
  const preset = PRESETS[request.preset]
  const rules: SelectionRules = {
    tournament: request.tournament ?? preset.tournament,
    duplicates: request.duplicates ?? preset.duplicates,
    reasoningCheck: checkRule(preset, request.reasoningCheck),
    unclearVerdict: request.unclearVerdict ?? preset.unclearVerdict,
    malformed: request.malformed ?? preset.malformed,
    wording: request.wording ?? preset.wording,
    matchOrder: request.matchOrder ?? preset.matchOrder,
    verdict: request.verdict ?? preset.verdict,
    votes: request.votes ?? preset.votes,
    bothOrders: request.bothOrders ?? preset.bothOrders,
  }
  const deviations = SELECTION_RULES.filter((rule) => rules[rule] !== PRESETS.REFERENCE[rule])
  return { preset: request.preset, rules, deviations }
}
