import { firstIssue } from "@stagebeam/grpc"
import { snakeCase } from "@stagebeam/proto"
import { decodeSearchRequest, type SearchRequest, type SearchRequestInput } from "@stagebeam/search"
import { Effect, Schema } from "effect"
import { type InvalidField, invalidField as invalid } from "./GatewayErrors.ts"
import { toImageSource } from "./images/ImageSource.ts"
import type { ImageSource } from "./images/Images.ts"
import { ReasonRequestMessage } from "./RequestSchema.ts"

/**
 * The judge a request asks for: by `name` (a declared judge; with JUDGE_MODEL also the judge model's name, as
 * before), else by the old selector (SELF = "self", MODEL = "model"), else the default.
 */
export interface JudgeChoice {
  readonly kind: "default" | "self" | "model"
  /** judge.name, "" when unset. */
  readonly name: string
}

/** A validated Reason call: the search to run (its image still to be prepared) and what to send back. */
export interface ReasonCommand {
  /** The search, without its image: that is fetched and checked only once the call is admitted. */
  readonly search: SearchRequest
  readonly image: ImageSource | undefined
  readonly includeStages: boolean
  readonly includeTrace: boolean
  readonly judge: JudgeChoice
  /** The time the request itself gives the search (the HTTP door's `stagebeam.deadline_ms`); gRPC uses its deadline. */
  readonly deadlineMs?: number | undefined
}

const decodeMessage = Schema.decodeUnknownEffect(ReasonRequestMessage)

/** SWIRES's knobs as the search spells them; 0 (proto3's unset) takes the default. */
const swiresInput = (swires: NonNullable<NonNullable<ReasonRequestMessage["search"]>["swires"]>) => ({
  ...(swires.keep === 0 ? {} : { keep: swires.keep }),
  ...(swires.reasoningsPerCaption === 0 ? {} : { reasoningsPerCaption: swires.reasoningsPerCaption }),
  ...(swires.conclusions === 0 ? {} : { conclusions: swires.conclusions }),
  ...(swires.maxRetraces === undefined ? {} : { maxRetraces: swires.maxRetraces }),
  ...(swires.cutoff === undefined ? {} : { cutoff: swires.cutoff }),
})

const withoutPrefix = (value: string, prefix: string) => value.slice(prefix.length)

/** An enum field as the search spells it (the name without its prefix), or nothing when unspecified. */
const enumOption = (key: keyof SearchRequestInput, value: string | undefined, prefix: string) =>
  // The search's own schema checks the value (and names the field) when it decodes the input.
  (value === undefined || value === `${prefix}UNSPECIFIED`
    ? {}
    : { [key]: withoutPrefix(value, prefix) }) as Partial<SearchRequestInput>

export interface DecodeOptions {
  readonly maxImageBytes: number
}

/** Checks a ReasonRequest in full and turns it into a command; the first problem found is reported. */
export const decodeReasonRequest = Effect.fnUntraced(function* (
  message: unknown,
  options: DecodeOptions,
): Effect.fn.Return<ReasonCommand, InvalidField> {
  const request = yield* decodeMessage(message).pipe(
    Effect.mapError((error) => {
      // The message's own path (grpc-js hands it over in camelCase), in the proto's spelling.
      const { path, message } = firstIssue(error)
      return invalid(
        path.length === 0 ? "request" : path.map((segment) => snakeCase(String(segment))).join("."),
        message,
      )
    }),
  )

  if (request.image !== null && request.image.source === undefined) {
    return yield* Effect.fail(
      invalid(["image"], "has neither data nor url (leave image unset for a text-only question)"),
    )
  }
  const image =
    request.image === null || request.image.source === undefined
      ? undefined
      : yield* toImageSource(request.image, request.image.source, options.maxImageBytes)

  const search = request.search
  const sampling = search?.sampling
  if (search?.reasoningCheck === true && search.reasoningCheckMode === "REASONING_CHECK_OFF") {
    return yield* Effect.fail(
      invalid(["reasoningCheck"], "REASONING_CHECK_OFF contradicts search.reasoning_check = true"),
    )
  }
  const input: SearchRequestInput = {
    question: request.question.trim(),
    ...(search === null || search.strategy === "STRATEGY_UNSPECIFIED"
      ? {}
      : { strategy: withoutPrefix(search.strategy, "STRATEGY_") as SearchRequestInput["strategy"] }),
    ...(search === null || search.tournament === "TOURNAMENT_UNSPECIFIED"
      ? {}
      : { tournament: withoutPrefix(search.tournament, "TOURNAMENT_") as SearchRequestInput["tournament"] }),
    ...(search === null || search.candidatesPerStage === 0 ? {} : { candidates: search.candidatesPerStage }),
    ...(search === null || search.seed === "0" ? {} : { seed: Number(search.seed) }),
    ...(search === null || search.tokenBudget === "0" ? {} : { tokenBudget: Number(search.tokenBudget) }),
    ...(search === null || !search.reasoningCheck ? {} : { reasoningCheck: true }),
    ...enumOption("reasoningCheck", search?.reasoningCheckMode, "REASONING_CHECK_"),
    ...enumOption("preset", search?.preset, "PRESET_"),
    ...enumOption("duplicates", search?.duplicates, "DUPLICATES_"),
    ...enumOption("unclearVerdict", search?.unclearVerdict, "UNCLEAR_VERDICT_"),
    ...enumOption("malformed", search?.malformed, "MALFORMED_"),
    ...enumOption("wording", search?.promptWording, "PROMPT_WORDING_"),
    ...enumOption("matchOrder", search?.matchOrder, "MATCH_ORDER_"),
    ...enumOption("verdict", search?.verdict, "VERDICT_MODE_"),
    ...enumOption("speculation", search?.speculation, "SPECULATION_"),
    ...(search?.stragglers === undefined ? {} : { stragglers: search.stragglers }),
    ...(search === null || search.speculationWidth === 0 ? {} : { speculationWidth: search.speculationWidth }),
    ...(search === null || search.votes === 0 ? {} : { votes: search.votes }),
    ...(search?.swires == null ? {} : { swires: swiresInput(search.swires) }),
    ...(request.judge?.bothOrders === true ? { bothOrders: true } : {}),
    ...(search === null || search.maxSentences === 0 ? {} : { maxSentences: search.maxSentences }),
    sampling: {
      // float32 on the wire: 0.3 arrives as 0.30000001192…
      ...(sampling?.temperature === undefined ? {} : { temperature: Number(sampling.temperature.toPrecision(6)) }),
      ...(sampling?.topP === undefined ? {} : { topP: Number(sampling.topP.toPrecision(6)) }),
      ...(sampling?.maxTokens === undefined ? {} : { maxTokens: sampling.maxTokens }),
    },
  }
  const decoded = yield* decodeSearchRequest(input).pipe(
    // The search's own path: the door spells it when it answers (protoField).
    Effect.mapError((error) => invalid(error.path, error.message)),
  )

  const judge: JudgeChoice = {
    kind:
      request.judge === null || request.judge.kind === "JUDGE_UNSPECIFIED"
        ? "default"
        : request.judge.kind === "JUDGE_SELF"
          ? "self"
          : "model",
    name: request.judge?.name ?? "",
  }

  return {
    search: decoded,
    image,
    includeStages: request.includeStages,
    includeTrace: request.includeTrace,
    judge,
  }
})
