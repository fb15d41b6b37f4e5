import type { JudgeKind } from "@stagebeam/cot"
import { Context, type Effect, Schema } from "effect"

/** Sampling knobs sent with every generation call (defaults follow the paper: 0.6 / 0.9 / 2048). */
export interface Sampling {
  readonly temperature: number
  readonly topP: number
  readonly maxTokens: number
}

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
  readonly sampling: Sampling
  /** Per-call seed derived from the request seed, so equal seeds give equal candidates. */
  readonly seed: number
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
}

/** What a pairwise comparison is about: a stage, a whole answer ("ALL"), or one sentence ("SENTENCE"). */
export type MatchKind = JudgeKind

export interface MatchInput {
  readonly kind: MatchKind
  readonly question: string
  readonly imageUrl: string | undefined
  /** Context the judge is given (caption for reasoning, caption + reasoning for the conclusion). */
  readonly hint: string | undefined
  /** The two texts, in the order the judge sees them ("Response 1", "Response 2"). */
  readonly first: string
  readonly second: string
  readonly seed: number
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
}

export interface CorrectnessInput {
  readonly question: string
  /** The chosen caption (the "given information"). */
  readonly hint: string | undefined
  readonly reasoning: string
  readonly seed: number
}

export interface CorrectnessVerdict {
  readonly correct: boolean
  readonly raw: string
  readonly server: string
  readonly promptTokens: number
  readonly completionTokens: number
}

export class GenerationError extends Schema.TaggedError<GenerationError>()("GenerationError", {
  message: Schema.String,
  /** True when the failure was a deadline or capacity problem rather than a broken request. */
  retryable: Schema.Boolean,
}) {}

export class JudgeError extends Schema.TaggedError<JudgeError>()("JudgeError", {
  message: Schema.String,
  retryable: Schema.Boolean,
}) {}

/** Samples continuations from the policy model (the fleet implements it over vLLM servers). */
export class CandidateGenerator extends Context.Service<
  CandidateGenerator,
  {
    readonly generate: (request: GenerationRequest) => Effect.Effect<GenerationResult, GenerationError>
  }
>()("@stagebeam/search/CandidateGenerator") {}

/** Compares two candidates (libs/judge implements it: the generator itself, another model, a reward model). */
export class Judge extends Context.Service<
  Judge,
  {
    readonly compare: (match: MatchInput) => Effect.Effect<Verdict, JudgeError>
    readonly checkReasoning: (input: CorrectnessInput) => Effect.Effect<CorrectnessVerdict, JudgeError>
  }
>()("@stagebeam/search/Judge") {}
