import { StepKind } from "@stagebeam/cot"
import { Schema } from "effect"
import { ServiceFailure } from "./Services.ts"

/** Every candidate of a step was invalid (missing tags, cut off by length, …), also after one resample. */
export class NoValidCandidate extends Schema.TaggedError<NoValidCandidate>()("NoValidCandidate", {
  step: Schema.Int,
  kind: StepKind,
  attempts: Schema.Int,
  /** Why each candidate of the last attempt was rejected. */
  problems: Schema.Array(Schema.String),
  /** Every candidate ran out of tokens: resampling will not help, a larger max_tokens may. */
  allCutByLength: Schema.Boolean,
  message: Schema.String,
}) {}

export const CutShortReason = Schema.Literals(["BUDGET", "DEADLINE", "SENTENCE_LIMIT"])
export type CutShortReason = typeof CutShortReason.Type

/** The token budget or the deadline ran out before any answer with a conclusion existed. */
export class BudgetExhausted extends Schema.TaggedError<BudgetExhausted>()("BudgetExhausted", {
  reason: CutShortReason,
  /** The answer text chosen so far (it has no conclusion). */
  partialText: Schema.String,
  message: Schema.String,
}) {}

/** The candidate generator failed at a step; `cause` is its failure, kept whole. */
export class GenerationFailed extends Schema.TaggedError<GenerationFailed>()("GenerationFailed", {
  step: Schema.Int,
  kind: StepKind,
  message: Schema.String,
  cause: ServiceFailure,
}) {
  get retryable(): boolean {
    return this.cause.retryable
  }
}

/** The judge failed at a step (a match or a reasoning check); `cause` is its failure, kept whole. */
export class JudgeFailed extends Schema.TaggedError<JudgeFailed>()("JudgeFailed", {
  step: Schema.Int,
  kind: StepKind,
  message: Schema.String,
  cause: ServiceFailure,
}) {
  get retryable(): boolean {
    return this.cause.retryable
  }
}

export type SearchError = NoValidCandidate | BudgetExhausted | GenerationFailed | JudgeFailed

/** A call did not finish before the request's deadline (internal: the search turns it into a cut). */
export class DeadlineReached extends Schema.TaggedError<DeadlineReached>()("DeadlineReached", {
  message: Schema.String,
}) {}
