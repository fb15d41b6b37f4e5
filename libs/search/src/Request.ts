import {
  Candidates,
  DEFAULTS,
  DeadlineMs,
  MaxSentences,
  Sampling,
  Seed,
  Strategy,
  TokenBudget,
  Tournament,
  withDefault,
} from "@stagebeam/cot"
import { Effect, Schema, SchemaIssue } from "effect"

/**
 * One reasoning request. Every knob may be omitted and then takes its default (the paper's, see DEFAULTS).
 * - `seed`: omitted → drawn from Effect's Random and reported in the result, so the run can be replayed.
 * - `tokenBudget`: completion tokens over all generation, judge and pre-check calls (prompt tokens are not
 *   counted: the image dominates them and the prefill is shared across the N samples).
 * - `deadlineMs`: the time left, in ms of Effect's Clock, counted from the moment `runSearch` starts.
 */
export const SearchRequest = Schema.Struct({
  question: Schema.String.check(Schema.isNonEmpty()),
  imageUrl: Schema.optional(Schema.String.check(Schema.isPattern(/^(https?:\/\/|data:image\/)/))),
  strategy: Strategy.pipe(withDefault(DEFAULTS.strategy)),
  tournament: Tournament.pipe(withDefault(DEFAULTS.tournament)),
  candidates: Candidates.pipe(withDefault(DEFAULTS.candidates)),
  seed: Schema.optional(Seed),
  sampling: Sampling.pipe(withDefault({})),
  /** Reasoning stage only: a text-only correctness check of each distinct reasoning before the pairwise matches. */
  reasoningCheck: Schema.Boolean.pipe(withDefault(DEFAULTS.reasoningCheck)),
  tokenBudget: Schema.optional(TokenBudget),
  deadlineMs: Schema.optional(DeadlineMs),
  /** SENTENCE_BEAM only: the most sentences searched before the rest of the answer is completed unjudged. */
  maxSentences: MaxSentences.pipe(withDefault(DEFAULTS.maxSentences)),
})
export type SearchRequest = typeof SearchRequest.Type
/** The request as a client writes it (every defaulted field optional). */
export type SearchRequestInput = typeof SearchRequest.Encoded

export class InvalidSearchRequest extends Schema.TaggedError<InvalidSearchRequest>()("InvalidSearchRequest", {
  /** The offending field as a dotted path, e.g. "sampling.temperature" ("" for the request itself). */
  field: Schema.String,
  message: Schema.String,
}) {}

const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()
const decode = Schema.decodeUnknownEffect(SearchRequest)

/** Validates and completes a request in one decode; the error names the first offending field. */
export const decodeSearchRequest = (input: unknown): Effect.Effect<SearchRequest, InvalidSearchRequest> =>
  decode(input).pipe(
    Effect.mapError((error) => {
      const first = formatIssue(error.issue).issues[0]
      const field = (first?.path ?? []).map(String).join(".")
      return new InvalidSearchRequest({ field, message: first?.message ?? error.message })
    }),
  )
