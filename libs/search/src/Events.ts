import { Stage, StepKind, Strategy, Tournament, VerdictMode } from "@stagebeam/cot"
import { Context, Effect, Schema } from "effect"
import { CutShortReason } from "./Errors.ts"
import { Selection } from "./Selection.ts"

// Every event carries times in ms of Effect's Clock since the search started, so a trace shows what overlapped.

/** The search begins: what it runs, and the selection rules in force (the preset, overrides, deviations). */
export const SearchStarted = Schema.TaggedStruct("SearchStarted", {
  strategy: Strategy,
  candidates: Schema.Int,
  seed: Schema.Int,
  selection: Selection,
  atMs: Schema.Number,
})

/** A step begins: one stage (STAGE_BEAM), the whole answer (BEST_OF_N, GREEDY) or one sentence (SENTENCE_BEAM). */
export const StepStarted = Schema.TaggedStruct("StepStarted", {
  step: Schema.Int,
  kind: StepKind,
  candidates: Schema.Int,
  atMs: Schema.Number,
})

/** One sampled candidate (all N of a call share the call's times and server). */
export const CandidateGenerated = Schema.TaggedStruct("CandidateGenerated", {
  step: Schema.Int,
  kind: StepKind,
  /** 0 for the first sampling, 1 for the one resample after an all-invalid step. */
  attempt: Schema.Int,
  index: Schema.Int,
  text: Schema.String,
  /** What the judge is shown: the stage's inner text, the whole answer, or the sentence ("" when it cannot read it). */
  judgedText: Schema.String,
  completionTokens: Schema.Int,
  /** The count is an estimate (the server reported none): see Usage.tokensEstimated. */
  tokensEstimated: Schema.optional(Schema.Boolean),
  finishReason: Schema.Literals(["stop", "length", "abort"]),
  server: Schema.String,
  valid: Schema.Boolean,
  /** Why an invalid candidate was rejected. */
  problem: Schema.optional(Schema.String),
  /** Index of the earlier identical candidate it was merged into (duplicates MERGE: it is not judged again). */
  mergedInto: Schema.optional(Schema.Int),
  startedAtMs: Schema.Number,
  endedAtMs: Schema.Number,
})

/** The reasoning-stage correctness pre-check of one candidate (ONCE: each distinct text; PER_MATCH: in its match). */
export const ReasoningChecked = Schema.TaggedStruct("ReasoningChecked", {
  step: Schema.Int,
  index: Schema.Int,
  correct: Schema.Boolean,
  raw: Schema.String,
  server: Schema.String,
  startedAtMs: Schema.Number,
  endedAtMs: Schema.Number,
})

/**
 * One decided match. `decidedBy`: JUDGE (the verdicts named the winner), MARGIN (they disagreed and the larger logprob
 * margin decided), COIN (nothing decided it: a seeded coin after the judge's calls), CORRECTNESS (the pre-check
 * settled it), IDENTICAL (two identical texts, a seeded coin, no call) or UNREADABLE (a REASONING match the
 * reference's pre-check would crash on, see Step.ts). `first`/`second` are in the order the judge saw them when one
 * verdict decided (`orderFlipped`: the tournament paired them the other way round).
 */
export const MatchJudged = Schema.TaggedStruct("MatchJudged", {
  step: Schema.Int,
  kind: StepKind,
  round: Schema.Int,
  match: Schema.Int,
  first: Schema.Int,
  second: Schema.Int,
  firstText: Schema.String,
  secondText: Schema.String,
  winner: Schema.Int,
  raw: Schema.String,
  explicit: Schema.Boolean,
  server: Schema.String,
  decidedBy: Schema.Literals(["JUDGE", "MARGIN", "COIN", "CORRECTNESS", "IDENTICAL", "UNREADABLE"]),
  /** Summed log-odds of the winner over the verdicts that gave logprobs (CHOICE verdicts). */
  margin: Schema.optional(Schema.Number),
  /** Verdicts for `first` and for `second` (a coin does not vote). */
  votesFirst: Schema.optional(Schema.Int),
  votesSecond: Schema.optional(Schema.Int),
  orderFlipped: Schema.optional(Schema.Boolean),
  /** A verdict was asked again with the responses swapped. */
  reasked: Schema.optional(Schema.Boolean),
  /** How the judge answered. */
  verdictMode: Schema.optional(VerdictMode),
  /** Judge calls the match took. */
  calls: Schema.optional(Schema.Int),
  startedAtMs: Schema.Number,
  endedAtMs: Schema.Number,
})

/** A pointwise judge's score of one candidate (a step with a pointwise judge keeps the highest). */
export const CandidateScored = Schema.TaggedStruct("CandidateScored", {
  step: Schema.Int,
  kind: StepKind,
  index: Schema.Int,
  score: Schema.Number,
  server: Schema.String,
  startedAtMs: Schema.Number,
  endedAtMs: Schema.Number,
})

/** SWIRES went back to the caption stage: the pool's second-best reasoning score was not above the cutoff. */
export const SearchRetraced = Schema.TaggedStruct("SearchRetraced", {
  /** The pass that failed (0 = the first). */
  pass: Schema.Int,
  secondBest: Schema.Number,
  cutoff: Schema.Number,
  atMs: Schema.Number,
})

/** The step's pick, appended to the answer. */
export const StepChosen = Schema.TaggedStruct("StepChosen", {
  step: Schema.Int,
  kind: StepKind,
  /** The chosen candidate's index; -1 when the text was not sampled (the fixed caption of a text-only question). */
  index: Schema.Int,
  text: Schema.String,
  /** How it was chosen: full tournament, only distinct valid candidate, tournament cut short, fixed text, the unjudged completion after a cut, or the highest score of a pointwise judge. */
  by: Schema.Literals(["TOURNAMENT", "ONLY_CANDIDATE", "CUT_SHORT", "FIXED", "UNJUDGED", "SCORE"]),
  atMs: Schema.Number,
})

/** The search stopped searching (budget, deadline, sentence limit); the rest of the answer is completed unjudged. */
export const SearchCutShort = Schema.TaggedStruct("SearchCutShort", {
  reason: CutShortReason,
  detail: Schema.String,
  atMs: Schema.Number,
})

/** The final answer. */
export const SearchFinished = Schema.TaggedStruct("SearchFinished", {
  conclusion: Schema.String,
  text: Schema.String,
  atMs: Schema.Number,
})

export const SearchEvent = Schema.Union([
  SearchStarted,
  StepStarted,
  CandidateGenerated,
  ReasoningChecked,
  MatchJudged,
  CandidateScored,
  SearchRetraced,
  StepChosen,
  SearchCutShort,
  SearchFinished,
])
export type SearchEvent = typeof SearchEvent.Type

export interface SearchEventSink {
  readonly publish: (event: SearchEvent) => Effect.Effect<void>
}

/** Where a search delivers its events as they happen. The default drops them (they still go into the trace). */
export const SearchEvents = Context.Reference<SearchEventSink>("@stagebeam/search/SearchEvents", {
  defaultValue: () => ({ publish: () => Effect.void }),
})

export const Usage = Schema.Struct({
  /** Prompt tokens of all calls (generation, judge, pre-check), as the servers report them. */
  promptTokens: Schema.Int,
  /** Completion tokens of all calls; this is what `tokenBudget` limits. */
  completionTokens: Schema.Int,
  generationCalls: Schema.Int,
  judgeCalls: Schema.Int,
  correctnessChecks: Schema.Int,
  /** Calls to a pointwise judge (a batched call scoring several candidates counts once). */
  scoringCalls: Schema.Int,
  /** Some of the counts are estimates: a server reported none, and they were counted with the model's tokenizer. */
  tokensEstimated: Schema.Boolean,
})
export type Usage = typeof Usage.Type

export const SearchResult = Schema.Struct({
  /** The seed used (the request's, or the drawn one): replaying with it gives the same run. */
  seed: Schema.Int,
  strategy: Strategy,
  tournament: Tournament,
  /** The selection rules the search ran with (the tournament among them). */
  selection: Selection,
  /** The text inside <CONCLUSION>, trimmed: the user's answer. */
  conclusion: Schema.String,
  /** The chosen stages in order, with their inner text. */
  stages: Schema.Array(Schema.Struct({ stage: Stage, text: Schema.String })),
  /** The full chosen answer as the model wrote it, tags included. */
  text: Schema.String,
  usage: Usage,
  /** Present when the search was cut short and the answer is the best found so far. */
  cutShort: Schema.optional(Schema.Struct({ reason: CutShortReason, detail: Schema.String })),
  trace: Schema.Array(SearchEvent),
})
export type SearchResult = typeof SearchResult.Type
