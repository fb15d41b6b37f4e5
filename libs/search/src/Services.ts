import type { Sampling, StepKind, UnclearVerdict, VerdictMode, Wording } from "@stagebeam/cot"
import { Context, type Effect, Predicate, Schema } from "effect"

/**
 * One generation call: continue the assistant `prefix` for the user turn [image, question],
 * sampling `n` continuations that stop at one of `stop` (the stop string is kept in the text).
 */
export interface GenerationRequest {
  readonly question: string
  /** An http(s) URL or a data: URL; absent for a text-only question. */
  readonly imageUrl: string | undefined
  readonly prefix: string
  readonly n: number
  readonly stop: ReadonlyArray<string>
  /** Token ids that also end a sample, kept in its text (vLLM's stop_token_ids): SENTENCE's periodTokenIds. */
  readonly stopTokenIds?: ReadonlyArray<number>
  readonly sampling: Sampling
  /** Per-call seed derived from the request seed, so equal seeds give equal candidates. */
  readonly seed: number
  /** Started ahead of its step for a finalist that may lose (speculation): the fleet may run it after other work. */
  readonly speculative?: boolean
}

export interface GeneratedText {
  readonly text: string
  readonly finishReason: "stop" | "length" | "abort"
  readonly completionTokens: number
}

export interface GenerationResult {
  readonly samples: ReadonlyArray<GeneratedText>
  readonly promptTokens: number
  /** Which upstream server answered (for the trace). */
  readonly server: string
  /** The server reported no token counts (or the call was cut short): the counts are estimates. */
  readonly tokensEstimated?: boolean
}

export interface MatchInput {
  /** What the two texts are: one stage, a whole answer ("ALL") or a next sentence ("SENTENCE"). */
  readonly kind: StepKind
  readonly question: string
  readonly imageUrl: string | undefined
  /** Context the judge is given (caption for reasoning, caption + reasoning for the conclusion). */
  readonly hint: string | undefined
  /**
   * The two texts, in the order of the match ("Response 1", "Response 2"). Undefined for a malformed candidate kept
   * as the reference keeps it with no text the judge can read: the prompt leaves it out and shows the other as
   * "Response 1", but winner 0 still means the first candidate.
   */
  readonly first: string | undefined
  readonly second: string | undefined
  readonly seed: number
  /** The prompt strings: CORRECTED or the reference's bytes. */
  readonly wording: Wording
  /** What to do with a verdict that names neither response (see decideVerdict). */
  readonly unclearVerdict: UnclearVerdict
  /** How the judge is asked to answer; FREE_TEXT when absent. A judge that cannot constrain answers free text. */
  readonly verdict?: VerdictMode | undefined
}

export interface Verdict {
  /** 0 = first, 1 = second. */
  readonly winner: 0 | 1
  /** The judge's raw output, kept for the trace. */
  readonly raw: string
  /** False when the verdict text did not name a response (the reference then silently picks the second). */
  readonly explicit: boolean
  readonly server: string
  readonly promptTokens: number
  readonly completionTokens: number
  /** Calls to the judge model this verdict took (more than 1 when the judge asked again); 1 when absent. */
  readonly calls?: number
  /** The token counts are estimates (the judge's server reported none). */
  readonly tokensEstimated?: boolean
  /**
   * The verdict's confidence: the natural-log odds of the winner over the other response (≥ 0), from the logprobs of
   * the two labels of a CHOICE verdict; absent when the judge gave none (free text).
   */
  readonly margin?: number | undefined
  /** How the answer was read: it named a response (EXPLICIT), it did not (UNCLEAR: the rule's fallback), or a coin. */
  readonly decidedBy?: "EXPLICIT" | "UNCLEAR" | "COIN" | undefined
  /** The judge was asked once more with the responses swapped (an unclear first answer). */
  readonly reasked?: boolean | undefined
  /** How the judge answered (a pool without a choice field answers FREE_TEXT whatever was asked). */
  readonly mode?: VerdictMode | undefined
}

/** The texts a pointwise judge (a reward model, a cross-encoder, a chat model asked for a score) scores. */
export interface ScoreInput {
  /** What the texts are: a stage's inner text, a whole answer (CONCLUSION and ALL) or a sentence. */
  readonly kind: StepKind
  readonly question: string
  readonly imageUrl: string | undefined
  /** Each scored on its own; the judge may send them in one batched call. */
  readonly responses: ReadonlyArray<string>
  readonly seed: number
}

export interface Scores {
  /** One per response, in order; higher is better (a reward model's scalar, a cross-encoder's score, an expectation). */
  readonly scores: ReadonlyArray<number>
  readonly server: string
  readonly promptTokens: number
  readonly completionTokens: number
  /** Calls to the scoring model (1 for a batched call); 1 when absent. */
  readonly calls?: number
  readonly tokensEstimated?: boolean
}

export interface CorrectnessInput {
  readonly question: string
  /** The chosen caption (the "given information"). */
  readonly hint: string | undefined
  readonly reasoning: string
  readonly seed: number
  readonly wording: Wording
}

export interface CorrectnessVerdict {
  readonly correct: boolean
  readonly raw: string
  readonly server: string
  readonly promptTokens: number
  readonly completionTokens: number
  readonly tokensEstimated?: boolean
}

/**
 * How a generator or judge reports a failed call. The search does not look inside: it keeps the failure whole as
 * the `cause` of its own error, so whoever turns errors into statuses still sees which server failed and how.
 */
export interface ServiceFailure {
  readonly _tag: string
  readonly message: string
  /** Another try may succeed (the server failed, not the request). */
  readonly retryable: boolean
}

export const ServiceFailure = Schema.declare<ServiceFailure>(
  (input): input is ServiceFailure =>
    Predicate.hasProperty(input, "_tag") &&
    Predicate.isString(input._tag) &&
    Predicate.hasProperty(input, "message") &&
    Predicate.hasProperty(input, "retryable"),
)

/**
 * Hears of each sample of a call as soon as it is finished (its index in the result, and its text and finish reason;
 * the token counts come with the result). Called synchronously by the generator; it must not block. A sample may be
 * heard twice (a failed-over call sends it again): the first counts.
 */
export type SampleListener = (index: number, sample: GeneratedText) => void

/** Samples continuations from the policy model (the fleet implements it over vLLM servers). */
export class CandidateGenerator extends Context.Service<
  CandidateGenerator,
  {
    /** `onSample`, when given, hears each sample as it finishes; a generator that cannot tell just returns them all. */
    readonly generate: (
      request: GenerationRequest,
      onSample?: SampleListener,
    ) => Effect.Effect<GenerationResult, ServiceFailure>
  }
>()("@stagebeam/search/CandidateGenerator") {}

/** What a pairwise judge can do now (its pool's servers, its declaration). */
export interface JudgeCapabilities {
  /** It can constrain a verdict to the two labels (a CHOICE verdict, with logprobs for a margin). */
  readonly choice: boolean
}

/**
 * A judge that compares two candidates at a time (the reference's: the generator itself, or another chat model). It
 * asks and answers; the search applies the match rules (the unclear rule, votes, orders) and picks the verdict mode.
 */
export interface PairwiseJudging {
  /**
   * One call: the verdict on the match's order as the judge read it, in the mode the match asks (FREE_TEXT where it
   * cannot constrain). Not explicit when it named neither response: the search decides what follows (decideVerdict).
   */
  readonly compare: (match: MatchInput) => Effect.Effect<Verdict, ServiceFailure>
  readonly checkReasoning: (input: CorrectnessInput) => Effect.Effect<CorrectnessVerdict, ServiceFailure>
  /** What it can do now; absent: it answers CHOICE verdicts when asked. */
  readonly capabilities?: Effect.Effect<JudgeCapabilities> | undefined
  readonly score?: undefined
}

/** A judge that scores each candidate on its own: a step keeps the highest score instead of running a tournament. */
export interface PointwiseJudging {
  readonly score: (input: ScoreInput) => Effect.Effect<Scores, ServiceFailure>
  readonly compare?: undefined
  readonly checkReasoning?: undefined
}

/**
 * Judges candidates (libs/judge implements it: the generator itself, another model, a reward model): pairwise
 * (`compare`) or pointwise (`score`).
 */
export class Judge extends Context.Service<Judge, PairwiseJudging | PointwiseJudging>()("@stagebeam/search/Judge") {}

/** Whether a judge scores candidates one by one (a reward model) rather than comparing pairs. */
export const isPointwise = (judge: Judge["Service"]): judge is PointwiseJudging => judge.score !== undefined
