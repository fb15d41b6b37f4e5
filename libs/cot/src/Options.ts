import { Effect, Schema } from "effect"

/** Defaults follow the paper and the model card (temperature 0.6, top_p 0.9, 2048 new tokens per call, 4 per stage). */
export const DEFAULTS = {
  temperature: 0.6,
  topP: 0.9,
  maxTokens: 2048,
  candidates: 4,
  strategy: "STAGE_BEAM",
  preset: "DEFAULT",
  maxSentences: 64,
  votes: 1,
} as const

/** Inclusive bounds of every numeric knob a request may set. */
export const BOUNDS = {
  temperature: { minimum: 0, maximum: 2 },
  topP: { minimum: 0.01, maximum: 1 },
  // 8192 is the context length the model is usually served with (--max-model-len 8192).
  maxTokens: { minimum: 1, maximum: 8192 },
  candidates: { minimum: 1, maximum: 64 },
  seed: { minimum: 0, maximum: 0xffff_ffff },
  tokenBudget: { minimum: 1, maximum: 10_000_000 },
  deadlineMs: { minimum: 1, maximum: 3_600_000 },
  maxSentences: { minimum: 1, maximum: 1024 },
  votes: { minimum: 1, maximum: 15 },
  // 2 = the finalists; at most the most candidates a stage may have.
  speculationWidth: { minimum: 2, maximum: 64 },
} as const

const between = (bounds: { readonly minimum: number; readonly maximum: number }) => Schema.isBetween(bounds)

/** A schema that takes `value` (in its encoded form) when the field is missing. */
export const withDefault = <S extends Schema.Top>(value: S["Encoded"]) =>
  Schema.withDecodingDefault<S>(Effect.succeed(value))

export const Temperature = Schema.Finite.check(between(BOUNDS.temperature))
export const TopP = Schema.Finite.check(between(BOUNDS.topP))
export const MaxTokens = Schema.Int.check(between(BOUNDS.maxTokens))
export const Candidates = Schema.Int.check(between(BOUNDS.candidates))
export const Seed = Schema.Int.check(between(BOUNDS.seed))
export const TokenBudget = Schema.Int.check(between(BOUNDS.tokenBudget))
export const DeadlineMs = Schema.Int.check(between(BOUNDS.deadlineMs))
export const MaxSentences = Schema.Int.check(between(BOUNDS.maxSentences))
export const Votes = Schema.Int.check(between(BOUNDS.votes))
export const SpeculationWidth = Schema.Int.check(between(BOUNDS.speculationWidth))

/**
 * How candidates are produced: per stage (the paper's method), whole answers, per sentence, one greedy sample, or
 * SWIRES (the authors' later stage-wise retracing search over a pointwise scorer, inference/VLMEvalKit/swires.py).
 */
export const Strategy = Schema.Literals(["STAGE_BEAM", "BEST_OF_N", "SENTENCE_BEAM", "GREEDY", "SWIRES"])
export type Strategy = typeof Strategy.Type

/** How one candidate is picked among N: a parallel bracket, or the reference's sequential random-pair pool. */
export const Tournament = Schema.Literals(["KNOCKOUT", "SEQUENTIAL"])
export type Tournament = typeof Tournament.Type

/**
 * A named set of selection rules: DEFAULT (stagebeam's improvements on the reference, each switchable below) or
 * REFERENCE (LLaVA-CoT's inference/demo/simple_inference.py, exactly).
 */
export const Preset = Schema.Literals(["DEFAULT", "REFERENCE"])
export type Preset = typeof Preset.Type

/**
 * Identical candidates: WEIGHT keeps each as an entrant (text written twice is likelier to win, as in the reference)
 * and decides a match between two of them by a seeded coin instead of a judge call; MERGE keeps one of each.
 */
export const Duplicates = Schema.Literals(["WEIGHT", "MERGE"])
export type Duplicates = typeof Duplicates.Type

/**
 * The REASONING stage's text-only correctness pre-check: OFF; ONCE (each distinct reasoning checked once, a correct
 * one beats an incorrect one, the judge decides when both agree); PER_MATCH (the reference: in every match, check
 * the first response, "incorrect" → the second wins unchecked; else check the second, "incorrect" → the first wins;
 * else the judge decides).
 */
export const ReasoningCheck = Schema.Literals(["OFF", "ONCE", "PER_MATCH"])
export type ReasoningCheck = typeof ReasoningCheck.Type

/**
 * A verdict that names neither response (or a tie of the two labels' logprobs): ASK_SWAPPED_THEN_COIN asks once more
 * with the order swapped and, if that is unclear too, tosses a seeded coin; ASK_SWAPPED asks once more and otherwise
 * takes the second; COIN tosses the coin at once; SECOND takes the second (the reference).
 */
export const UnclearVerdict = Schema.Literals(["ASK_SWAPPED", "SECOND", "COIN", "ASK_SWAPPED_THEN_COIN"])
export type UnclearVerdict = typeof UnclearVerdict.Type

/**
 * Candidates without their stage's tags (cut off by length, …): DROP them (and resample once when none is left);
 * KEEP them in the tournament as the reference does (a response the judge cannot read is left out of its prompt and
 * the other renumbered).
 */
export const Malformed = Schema.Literals(["DROP", "KEEP"])
export type Malformed = typeof Malformed.Type

/**
 * The judge's and the pre-check's prompts: CORRECTED (spelling and layout fixed, the conclusion hint's two parts
 * apart, the sentence judged whole) or REFERENCE (the reference's strings byte for byte: see ReferencePrompt.ts).
 */
export const Wording = Schema.Literals(["CORRECTED", "REFERENCE"])
export type Wording = typeof Wording.Type

/**
 * The order the judge sees a match in: AS_PAIRED (the tournament's: the first drawn is shown first, as the reference
 * does) or SEEDED (each match's order drawn from the request seed, so a position bias cannot follow the bracket).
 */
export const MatchOrder = Schema.Literals(["AS_PAIRED", "SEEDED"])
export type MatchOrder = typeof MatchOrder.Type

/**
 * How a pairwise judge answers: FREE_TEXT (the reference's sentence "Since [reason], I choose response [1/2].") or
 * CHOICE (the answer constrained to the two labels, a few tokens, with logprobs: the margin between the two labels is
 * the verdict's confidence). A pool without a choice field gets FREE_TEXT whatever is asked.
 */
export const VerdictMode = Schema.Literals(["FREE_TEXT", "CHOICE"])
export type VerdictMode = typeof VerdictMode.Type

/**
 * HF `generate`'s default top_k, which the reference's calls get (inference/demo/simple_inference.py passes
 * do_sample, max_new_tokens, temperature and top_p only; PKU-YuanGroup/LLaVA-CoT@081cc3f): the REFERENCE preset sends
 * it, so vLLM samples from the same 50 tokens.
 */
export const REFERENCE_TOP_K = 50

/** Sampling of every model call (generation and judging); each knob may be omitted and takes the paper's default. */
export const Sampling = Schema.Struct({
  temperature: Temperature.pipe(withDefault(DEFAULTS.temperature)),
  topP: TopP.pipe(withDefault(DEFAULTS.topP)),
  maxTokens: MaxTokens.pipe(withDefault(DEFAULTS.maxTokens)),
  /** Sample from the k likeliest tokens only (unset: vLLM's default, all of them; REFERENCE_TOP_K for the reference). */
  topK: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 }))),
})
export type Sampling = typeof Sampling.Type
