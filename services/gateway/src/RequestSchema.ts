import { BOUNDS } from "@stagebeam/cot"
import { Schema } from "effect"
import { REQUEST_BOUNDS } from "./RequestBounds.ts"

/**
 * The ReasonRequest as grpc-js hands it over (proto-loader with defaults, oneofs, 64-bit as strings, enums as names),
 * checked field by field. An unknown enum number arrives as a number and fails here, naming the field.
 */

// The length first: nothing else reads a question longer than the bound.
const Question = Schema.String.check(
  Schema.isMaxLength(REQUEST_BOUNDS.questionChars),
  Schema.makeFilter((text: string) => text.trim().length > 0 || "must not be empty"),
)

const Name = Schema.String.check(Schema.isMaxLength(REQUEST_BOUNDS.nameChars))

const Uint64Text = Schema.String.check(Schema.isPattern(/^\d+$/))

const ImageMessage = Schema.Struct({
  source: Schema.optional(Schema.Literals(["data", "url"])),
  // Only the member of the oneof that is set is present.
  data: Schema.optional(Schema.Uint8Array),
  url: Schema.optional(Schema.String),
  mimeType: Name,
})

// Only the shape here: the bounds are the search's own (SearchRequest), reported under the proto's field names.
const SamplingMessage = Schema.Struct({
  temperature: Schema.optional(Schema.Finite),
  topP: Schema.optional(Schema.Finite),
  maxTokens: Schema.optional(Schema.Int),
})

// 0 / unset = SWIRES's defaults; the bounds are the search's own.
const SwiresMessage = Schema.Struct({
  keep: Schema.Int,
  reasoningsPerCaption: Schema.Int,
  conclusions: Schema.Int,
  maxRetraces: Schema.optional(Schema.Int),
  cutoff: Schema.optional(Schema.Finite),
})

const SearchMessage = Schema.Struct({
  strategy: Schema.Literals([
    "STRATEGY_UNSPECIFIED",
    "STRATEGY_STAGE_BEAM",
    "STRATEGY_BEST_OF_N",
    "STRATEGY_SENTENCE_BEAM",
    "STRATEGY_GREEDY",
    "STRATEGY_SWIRES",
  ]),
  // 0 = the default.
  candidatesPerStage: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: BOUNDS.candidates.maximum })),
  tournament: Schema.Literals(["TOURNAMENT_UNSPECIFIED", "TOURNAMENT_KNOCKOUT", "TOURNAMENT_SEQUENTIAL"]),
  seed: Uint64Text.check(
    Schema.makeFilter(
      (text: string) => Number(text) <= BOUNDS.seed.maximum || `must be at most ${BOUNDS.seed.maximum}`,
    ),
  ),
  sampling: Schema.NullOr(SamplingMessage),
  reasoningCheck: Schema.Boolean,
  maxSentences: Schema.Int,
  preset: Schema.Literals(["PRESET_UNSPECIFIED", "PRESET_DEFAULT", "PRESET_REFERENCE"]),
  duplicates: Schema.Literals(["DUPLICATES_UNSPECIFIED", "DUPLICATES_WEIGHT", "DUPLICATES_MERGE"]),
  reasoningCheckMode: Schema.Literals([
    "REASONING_CHECK_UNSPECIFIED",
    "REASONING_CHECK_OFF",
    "REASONING_CHECK_ONCE",
    "REASONING_CHECK_PER_MATCH",
  ]),
  unclearVerdict: Schema.Literals([
    "UNCLEAR_VERDICT_UNSPECIFIED",
    "UNCLEAR_VERDICT_ASK_SWAPPED",
    "UNCLEAR_VERDICT_SECOND",
    "UNCLEAR_VERDICT_COIN",
    "UNCLEAR_VERDICT_ASK_SWAPPED_THEN_COIN",
  ]),
  malformed: Schema.Literals(["MALFORMED_UNSPECIFIED", "MALFORMED_DROP", "MALFORMED_KEEP"]),
  promptWording: Schema.Literals([
    "PROMPT_WORDING_UNSPECIFIED",
    "PROMPT_WORDING_CORRECTED",
    "PROMPT_WORDING_REFERENCE",
  ]),
  matchOrder: Schema.Literals(["MATCH_ORDER_UNSPECIFIED", "MATCH_ORDER_AS_PAIRED", "MATCH_ORDER_SEEDED"]),
  verdict: Schema.Literals(["VERDICT_MODE_UNSPECIFIED", "VERDICT_MODE_FREE_TEXT", "VERDICT_MODE_CHOICE"]),
  stragglers: Schema.optional(Schema.Boolean),
  speculation: Schema.Literals([
    "SPECULATION_UNSPECIFIED",
    "SPECULATION_OFF",
    "SPECULATION_ADAPTIVE",
    "SPECULATION_ALWAYS",
  ]),
  // 0 = the preset's; the bound is the search's own.
  votes: Schema.Int,
  // 0 = the server's setting; the bound is the search's own.
  speculationWidth: Schema.Int,
  swires: Schema.NullOr(SwiresMessage),
  tokenBudget: Uint64Text.check(
    Schema.makeFilter(
      (text: string) => Number(text) <= BOUNDS.tokenBudget.maximum || `must be at most ${BOUNDS.tokenBudget.maximum}`,
    ),
  ),
})

const JudgeMessage = Schema.Struct({
  kind: Schema.Literals(["JUDGE_UNSPECIFIED", "JUDGE_SELF", "JUDGE_MODEL"]),
  name: Name,
  bothOrders: Schema.Boolean,
})

export const ReasonRequestMessage = Schema.Struct({
  question: Question,
  image: Schema.NullOr(ImageMessage),
  search: Schema.NullOr(SearchMessage),
  includeStages: Schema.Boolean,
  includeTrace: Schema.Boolean,
  judge: Schema.NullOr(JudgeMessage),
})
export type ReasonRequestMessage = typeof ReasonRequestMessage.Type
