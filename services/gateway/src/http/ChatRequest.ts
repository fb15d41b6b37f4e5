import { BOUNDS } from "@stagebeam/cot"
import { firstIssue } from "@stagebeam/grpc"
import { decodeSearchRequest, type SearchRequestInput } from "@stagebeam/search"
import { Effect, Schema } from "effect"
import type { JudgeChoice, ReasonCommand } from "../DecodeRequest.ts"
import { type InvalidField, invalidField } from "../GatewayErrors.ts"
import { type DataUrlImage, fromDataUrl, toImageSource } from "../images/ImageSource.ts"
import { REQUEST_BOUNDS } from "../RequestBounds.ts"
import { type ChatFields, chatField, FIRST_MESSAGE } from "./ChatFields.ts"

/**
 * The body of `POST /v1/chat/completions` (OpenAI's chat completions API), the fields stagebeam reads; other fields
 * are ignored as OpenAI-compatible servers do. The search's own options go in the extra field `stagebeam`.
 */

// The same bounds as the gRPC door's (RequestSchema), checked before anything reads the text.
const Text = Schema.String.check(Schema.isMaxLength(REQUEST_BOUNDS.questionChars))
const Name = Schema.String.check(Schema.isMaxLength(REQUEST_BOUNDS.nameChars))

const TextPart = Schema.Struct({ type: Schema.Literal("text"), text: Text })
const ImagePart = Schema.Struct({
  type: Schema.Literal("image_url"),
  image_url: Schema.Struct({ url: Schema.String, detail: Schema.optional(Name) }),
})
const Part = Schema.Union([TextPart, ImagePart])

const Message = Schema.Struct({
  role: Name,
  content: Schema.Union([Text, Schema.Array(Part).check(Schema.isMaxLength(REQUEST_BOUNDS.parts))]),
})

const optionalNullable = <S extends Schema.Top>(schema: S) => Schema.optional(Schema.NullOr(schema))

const lower = <const L extends ReadonlyArray<string>>(names: L) => Schema.Literals(names)

const STRATEGY_NAMES = ["stage_beam", "best_of_n", "sentence_beam", "greedy", "swires"] as const

/** The search's options, with the proto's enum names in lower case (as the CLI spells them). */
export const StagebeamOptions = Schema.Struct({
  strategy: Schema.optional(lower(STRATEGY_NAMES)),
  candidates: Schema.optional(Schema.Int),
  tournament: Schema.optional(lower(["knockout", "sequential"])),
  preset: Schema.optional(lower(["default", "reference"])),
  judge: Schema.optional(lower(["self", "model"])),
  /** A declared judge by name (ListJudges, or the gateway's settings); wins over `judge`. */
  judge_name: Schema.optional(Name),
  both_orders: Schema.optional(Schema.Boolean),
  seed: Schema.optional(Schema.Int),
  token_budget: Schema.optional(Schema.Int),
  deadline_ms: Schema.optional(
    Schema.Int.check(Schema.isBetween({ minimum: BOUNDS.deadlineMs.minimum, maximum: BOUNDS.deadlineMs.maximum })),
  ),
  duplicates: Schema.optional(lower(["weight", "merge"])),
  reasoning_check: Schema.optional(lower(["off", "once", "per_match"])),
  unclear_verdict: Schema.optional(lower(["ask_swapped", "second", "coin", "ask_swapped_then_coin"])),
  match_order: Schema.optional(lower(["as_paired", "seeded"])),
  verdict: Schema.optional(lower(["free_text", "choice"])),
  votes: Schema.optional(Schema.Int),
  malformed: Schema.optional(lower(["drop", "keep"])),
  prompt_wording: Schema.optional(lower(["corrected", "reference"])),
  max_sentences: Schema.optional(Schema.Int),
  /** STAGE_BEAM's speculative next stage; absent: the server's `search.speculation`. */
  speculation: Schema.optional(lower(["off", "adaptive", "always"])),
  /** Matches start on a stage's first finished samples (the pairing then follows finishing order). */
  stragglers: Schema.optional(Schema.Boolean),
  /** How early speculation starts (see SearchOptions.speculation_width); absent: `search.speculationWidth`. */
  speculation_width: Schema.optional(Schema.Int),
  /** Non-streaming answers only: the search's events under `stagebeam.trace`. */
  include_trace: Schema.optional(Schema.Boolean),
})
export type StagebeamOptions = typeof StagebeamOptions.Type

export const ChatRequest = Schema.Struct({
  model: Name,
  messages: Schema.Array(Message).check(Schema.isMinLength(1), Schema.isMaxLength(REQUEST_BOUNDS.messages)),
  stream: optionalNullable(Schema.Boolean),
  stream_options: optionalNullable(Schema.Struct({ include_usage: Schema.optional(Schema.Boolean) })),
  temperature: optionalNullable(Schema.Finite),
  top_p: optionalNullable(Schema.Finite),
  max_tokens: optionalNullable(Schema.Int),
  max_completion_tokens: optionalNullable(Schema.Int),
  seed: optionalNullable(Schema.Int),
  n: optionalNullable(Schema.Int),
  stagebeam: optionalNullable(StagebeamOptions),
})
export type ChatRequest = typeof ChatRequest.Type

/** A path as OpenAI's `param` writes it: `messages[0].content[1].image_url.url`. */
const paramOf = (segments: ReadonlyArray<PropertyKey>) =>
  segments.reduce<string>(
    (path, segment) =>
      typeof segment === "number" || /^\d+$/.test(String(segment))
        ? `${path}[${String(segment)}]`
        : path === ""
          ? String(segment)
          : `${path}.${String(segment)}`,
    "",
  )

const decodeBody = Schema.decodeUnknownEffect(ChatRequest)

/** The body checked against the schema; the first problem names its field as OpenAI's `param` does. */
export const decodeChatBody = (body: unknown): Effect.Effect<ChatRequest, InvalidField> =>
  decodeBody(body).pipe(
    Effect.mapError((error) => {
      const { path, message } = firstIssue(error)
      return invalidField(path.length === 0 ? "body" : paramOf(path), message)
    }),
  )

const upper = <A extends string>(value: A | undefined) =>
  value === undefined ? undefined : (value.toUpperCase() as Uppercase<A>)

/** The fields that are set (OpenAI's clients send null for unset). */
const defined = <A extends object>(fields: A): { [K in keyof A]?: Exclude<A[K], null | undefined> } =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== null)) as {
    [K in keyof A]?: Exclude<A[K], null | undefined>
  }

type ChatMessage = ChatRequest["messages"][number]

/** Roles whose text is folded into the question (OpenAI's newer clients send `developer` for `system`). */
const FOLDED_ROLES = new Set(["system", "developer"])

const contentParts = (content: ChatMessage["content"]) =>
  typeof content === "string" ? [{ type: "text" as const, text: content }] : content

const textOf = (content: ChatMessage["content"]) =>
  contentParts(content)
    .flatMap((part) => (part.type === "text" ? [part.text] : []))
    .join("\n")
    .trim()

/**
 * The question: the one user message's text, after the text of any system (or developer) messages. Llama 3.2
 * Vision's chat template refuses a system turn beside an image, and most chat front-ends send one, so its text is
 * folded in: each system message's text in order, a blank line, then the user's question. Earlier turns (assistant,
 * tool) are refused: the search answers one question.
 */
const questionOf = Effect.fnUntraced(function* (
  messages: ReadonlyArray<ChatMessage>,
): Effect.fn.Return<{ readonly user: number; readonly question: string }, InvalidField> {
  const users = messages.flatMap((message, index) => (message.role === "user" ? [index] : []))
  const other = messages.findIndex((message) => message.role !== "user" && !FOLDED_ROLES.has(message.role))
  if (other !== -1 || users.length !== 1) {
    const at = other !== -1 ? other : (users[1] ?? messages.length - 1)
    return yield* invalidField(
      `messages[${at}]${other !== -1 ? ".role" : ""}`,
      "the search answers one question about one image: send one user message, optionally after system messages (no assistant or earlier turns)",
    )
  }
  const user = users[0]!
  const question = textOf(messages[user]!.content)
  if (question === "") return yield* invalidField(`messages[${user}].content`, "has no text: ask a question")
  const folded: Array<string> = []
  for (const [index, message] of messages.entries()) {
    if (!FOLDED_ROLES.has(message.role)) continue
    const image = contentParts(message.content).findIndex((part) => part.type === "image_url")
    if (image !== -1) {
      return yield* invalidField(
        `messages[${index}].content[${image}]`,
        `is an image in a ${message.role} message; put the image in the user message`,
      )
    }
    const text = textOf(message.content)
    if (text !== "") folded.push(text)
  }
  return { user, question: [...folded, question].join("\n\n") }
})

/** optillm's convention: `STRATEGY-N/MODEL` (or `STRATEGY/MODEL`) picks a search by the model's name alone. */
const MODEL_SEARCH = new RegExp(`^(${STRATEGY_NAMES.join("|")})(?:-(\\d+))?/(.+)$`)

/**
 * The search a model name asks for: none for a served model's own name, the strategy and N for
 * `stage_beam-4/Xkev/Llama-3.2V-11B-cot`; undefined for a model this gateway does not serve.
 */
export const searchOfModel = (
  model: string,
  served: ReadonlyArray<string>,
): Pick<StagebeamOptions, "strategy" | "candidates"> | undefined => {
  if (served.includes(model)) return {}
  const match = MODEL_SEARCH.exec(model)
  if (match === null || !served.includes(match[3]!)) return undefined
  const strategy = match[1] as (typeof STRATEGY_NAMES)[number]
  return match[2] === undefined ? { strategy } : { strategy, candidates: Number(match[2]) }
}

export interface ChatCommand {
  readonly command: ReasonCommand
  /** Where this request's fields are: errors of the Reasoning path are named as it spelled them. */
  readonly fields: ChatFields
  readonly stream: boolean
  readonly includeUsage: boolean
  readonly includeTrace: boolean
}

/**
 * A chat request as a Reason command: one user message whose text parts are the question and whose image_url part
 * (at most one) is the image, under the same checks as gRPC's; sampling from OpenAI's fields; the search from
 * `stagebeam`. `models` are the names this gateway answers to.
 */
export const decodeChatRequest = Effect.fnUntraced(function* (
  body: unknown,
  options: {
    readonly maxImageBytes: number
    readonly models: ReadonlyArray<string>
    /** Images of data: URLs read already (JsonBody), by the placeholder that stands for each URL in `body`. */
    readonly dataUrls?: ReadonlyMap<string, DataUrlImage>
  },
): Effect.fn.Return<ChatCommand, InvalidField> {
  const request = yield* decodeChatBody(body)
  const named = searchOfModel(request.model, options.models)
  if (named === undefined) {
    return yield* invalidField(
      "model",
      `is "${request.model}"; this gateway serves ${options.models.join(", ")} (or STRATEGY-N/MODEL, e.g. stage_beam-4/${options.models[0]})`,
    )
  }
  if (request.n !== undefined && request.n !== null && request.n !== 1) {
    return yield* invalidField(
      "n",
      `is ${request.n}; the search returns one answer (its own candidates are stagebeam.candidates)`,
    )
  }
  const { user, question } = yield* questionOf(request.messages)
  const at = `messages[${user}].content`
  const parts = contentParts(request.messages[user]!.content)
  if (question.length > REQUEST_BOUNDS.questionChars) {
    return yield* invalidField(
      at,
      `is ${question.length} characters of text (system messages included); at most ${REQUEST_BOUNDS.questionChars}`,
    )
  }
  const images = parts.flatMap((part, index) => (part.type === "image_url" ? [{ part, index }] : []))
  if (images.length > 1) {
    return yield* invalidField(`${at}[${images[1]!.index}]`, "is a second image; the model takes one")
  }
  const imagePart = images[0]
  // The search the model name picks; the `stagebeam` field's own options win over it.
  const sb = { ...named, ...request.stagebeam }
  const fields: ChatFields = {
    question: at,
    image: imagePart === undefined ? undefined : `${at}[${imagePart.index}].image_url.url`,
    maxTokens: request.max_completion_tokens != null ? "max_completion_tokens" : FIRST_MESSAGE.maxTokens,
    seed: sb.seed !== undefined ? "stagebeam.seed" : FIRST_MESSAGE.seed,
  }
  const read = imagePart === undefined ? undefined : options.dataUrls?.get(imagePart.part.image_url.url)
  const image =
    imagePart === undefined
      ? undefined
      : yield* (
          read === undefined
            ? toImageSource({ url: imagePart.part.image_url.url, mimeType: "" }, "url", options.maxImageBytes)
            : fromDataUrl(read, options.maxImageBytes)
        ).pipe(Effect.mapError((error) => invalidField(chatField(error.field, fields), error.message)))

  const input: SearchRequestInput = {
    question,
    ...defined({
      strategy: upper(sb.strategy),
      tournament: upper(sb.tournament),
      preset: upper(sb.preset),
      candidates: sb.candidates,
      seed: sb.seed ?? request.seed ?? undefined,
      tokenBudget: sb.token_budget,
      reasoningCheck: upper(sb.reasoning_check),
      duplicates: upper(sb.duplicates),
      unclearVerdict: upper(sb.unclear_verdict),
      malformed: upper(sb.malformed),
      wording: upper(sb.prompt_wording),
      matchOrder: upper(sb.match_order),
      verdict: upper(sb.verdict),
      votes: sb.votes,
      bothOrders: sb.both_orders,
      maxSentences: sb.max_sentences,
      speculation: upper(sb.speculation),
      stragglers: sb.stragglers,
      // 0, as in the gRPC SearchOptions: the server's setting.
      speculationWidth: sb.speculation_width === 0 ? undefined : sb.speculation_width,
    }),
    sampling: defined({
      temperature: request.temperature,
      topP: request.top_p,
      maxTokens: request.max_completion_tokens ?? request.max_tokens,
    }),
  }
  const search = yield* decodeSearchRequest(input).pipe(
    Effect.mapError((error) => invalidField(chatField(error.path, fields), error.message)),
  )

  const judge: JudgeChoice = { kind: sb.judge ?? "default", name: sb.judge_name ?? "" }
  const includeTrace = sb.include_trace ?? false
  return {
    command: {
      search,
      image,
      includeStages: true,
      includeTrace,
      judge,
      ...(sb.deadline_ms === undefined ? {} : { deadlineMs: sb.deadline_ms }),
    },
    fields,
    stream: request.stream ?? false,
    includeUsage: request.stream_options?.include_usage ?? false,
    includeTrace,
  }
})
