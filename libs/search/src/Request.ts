import {
  Candidates,
  DEFAULTS,
  DeadlineMs,
  Duplicates,
  Malformed,
  MatchOrder,
  MaxSentences,
  Preset,
  ReasoningCheck,
  Sampling,
  Seed,
  SpeculationWidth,
  Strategy,
  TokenBudget,
  Tournament,
  UnclearVerdict,
  VerdictMode,
  Votes,
  Wording,
  withDefault,
} from "@stagebeam/cot"
import { Effect, Schema, SchemaIssue } from "effect"
import { Speculation } from "./ScheduleOptions.ts"
import { SwiresOptions } from "./SwiresOptions.ts"

/**
 * One reasoning request. Every knob may be omitted and then takes its default (the paper's, see DEFAULTS).
 * - `seed`: omitted → drawn from Effect's Random and reported in the result, so the run can be replayed.
 * - `tokenBudget`: completion tokens over all generation, judge and pre-check calls (prompt tokens are not
 *   counted: the image dominates them and the prefill is shared across the N samples).
 * - `deadlineMs`: the time left, in ms of Effect's Clock, counted from the moment `runSearch` starts.
 * - `preset` sets the selection rules (Selection.ts); `tournament`, `duplicates`, `reasoningCheck`,
 *   `unclearVerdict`, `malformed`, `wording`, `matchOrder`, `verdict`, `votes` and `bothOrders`, when given,
 *   override the preset's one by one.
 * - `speculation`: STAGE_BEAM's speculative next stage (Speculation.ts; ADAPTIVE when omitted); the answer is the same.
 * - `swires`: SWIRES only (Swires.ts); `candidates` is its number of captions per pass.
 */
export const SearchRequest = Schema.Struct({
  question: Schema.String.check(Schema.isNonEmpty()),
  imageUrl: Schema.optional(Schema.String.check(Schema.isPattern(/^(https?:\/\/|data:image\/)/))),
  strategy: Strategy.pipe(withDefault(DEFAULTS.strategy)),
  preset: Preset.pipe(withDefault(DEFAULTS.preset)),
  tournament: Schema.optional(Tournament),
  candidates: Candidates.pipe(withDefault(DEFAULTS.candidates)),
  seed: Schema.optional(Seed),
  sampling: Sampling.pipe(withDefault({})),
  /** Reasoning stage only: the text-only correctness pre-check; true = on with the preset's rule, false = OFF. */
  reasoningCheck: Schema.optional(Schema.Union([Schema.Boolean, ReasoningCheck])),
  duplicates: Schema.optional(Duplicates),
  unclearVerdict: Schema.optional(UnclearVerdict),
  malformed: Schema.optional(Malformed),
  wording: Schema.optional(Wording),
  matchOrder: Schema.optional(MatchOrder),
  verdict: Schema.optional(VerdictMode),
  votes: Schema.optional(Votes),
  bothOrders: Schema.optional(Schema.Boolean),
  speculation: Schema.optional(Speculation),
  /** Stragglers (Stragglers.ts): matches start on the first samples while the rest decode; pairing then follows finishing order. */
  stragglers: Schema.optional(Schema.Boolean),
  /** Candidates speculated on from the round with at most this many left (≥ N: each as its sample finishes). */
  speculationWidth: Schema.optional(SpeculationWidth),
  swires: SwiresOptions.pipe(withDefault({})),
  tokenBudget: Schema.optional(TokenBudget),
  deadlineMs: Schema.optional(DeadlineMs),
  /** SENTENCE_BEAM only: the most sentences searched before the rest of the answer is completed unjudged. */
  maxSentences: MaxSentences.pipe(withDefault(DEFAULTS.maxSentences)),
})
export type SearchRequest = typeof SearchRequest.Type
/** The request as a client writes it (every defaulted field optional). */
export type SearchRequestInput = typeof SearchRequest.Encoded

type Keys<T> = Extract<keyof T, string>

/**
 * A field of the search request in its own vocabulary: a key, or a key of `sampling` or `swires`; `[]` for the
 * request itself. The doors spell it each their own way (the gateway's ProtoFields and ChatFields).
 */
export type SearchPath =
  | readonly []
  | readonly [Keys<SearchRequestInput>]
  | readonly ["sampling", Keys<NonNullable<SearchRequestInput["sampling"]>>]
  | readonly ["swires", Keys<NonNullable<SearchRequestInput["swires"]>>]

const isSearchPath = (u: unknown): u is SearchPath =>
  Array.isArray(u) && u.length <= 2 && u.every((segment) => typeof segment === "string")

export class InvalidSearchRequest extends Schema.TaggedError<InvalidSearchRequest>()("InvalidSearchRequest", {
  /** The offending field, e.g. `["sampling", "temperature"]`. */
  path: Schema.declare(isSearchPath),
  message: Schema.String,
}) {
  /** The path dotted, e.g. "sampling.temperature" ("" for the request itself). */
  get field(): string {
    return this.path.join(".")
  }
}

const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()
const decode = Schema.decodeUnknownEffect(SearchRequest)

/** Validates and completes a request in one decode; the error names the first offending field. */
export const decodeSearchRequest = (input: unknown): Effect.Effect<SearchRequest, InvalidSearchRequest> =>
  decode(input).pipe(
    Effect.mapError((error) => {
      const first = formatIssue(error.issue).issues[0]
      // The schema's own keys: the path is one of SearchRequest's fields, nested at most once.
      const path = (first?.path ?? []).map(String) as unknown as SearchPath
      return new InvalidSearchRequest({ path, message: first?.message ?? error.message })
    }),
  )
