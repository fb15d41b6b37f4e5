// The chat-completions request body: the fields an orchestrator uses, as vLLM accepts them, plus SGLang's
// no_stop_trim. Unknown fields are ignored, as vLLM and SGLang do; which known ones count is the behaviour's call.
import { Schema } from "effect"

const ImageUrl = Schema.Struct({ url: Schema.String, detail: Schema.optionalKey(Schema.NullOr(Schema.String)) })

export const ContentPart = Schema.Struct({
  type: Schema.String,
  text: Schema.optionalKey(Schema.String),
  image_url: Schema.optionalKey(Schema.Union([ImageUrl, Schema.String])),
})
export type ContentPart = typeof ContentPart.Type

export const ChatMessage = Schema.Struct({
  role: Schema.String,
  content: Schema.optionalKey(Schema.NullOr(Schema.Union([Schema.String, Schema.Array(ContentPart)]))),
})
export type ChatMessage = typeof ChatMessage.Type

const opt = <S extends Schema.Top>(s: S) => Schema.optionalKey(Schema.NullOr(s))

export const ChatRequest = Schema.Struct({
  model: opt(Schema.String),
  messages: Schema.Array(ChatMessage),
  n: opt(Schema.Int),
  seed: opt(Schema.Int),
  temperature: opt(Schema.Finite),
  top_p: opt(Schema.Finite),
  max_tokens: opt(Schema.Int),
  max_completion_tokens: opt(Schema.Int),
  min_tokens: opt(Schema.Int),
  ignore_eos: opt(Schema.Boolean),
  stop: opt(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  include_stop_str_in_output: opt(Schema.Boolean),
  /** vLLM and SGLang: token ids that end the sample, kept in its text. */
  stop_token_ids: opt(Schema.Array(Schema.Int)),
  continue_final_message: opt(Schema.Boolean),
  add_generation_prompt: opt(Schema.Boolean),
  logprobs: opt(Schema.Boolean),
  top_logprobs: opt(Schema.Int),
  guided_choice: opt(Schema.Array(Schema.String)),
  /** vLLM ≥ 0.10.2: `{choice: [...]}` (also json, regex, grammar, which the simulator does not model). */
  structured_outputs: opt(Schema.Struct({ choice: opt(Schema.Array(Schema.String)) })),
  /** SGLang: keep the matched stop string in the output. */
  no_stop_trim: opt(Schema.Boolean),
  priority: opt(Schema.Int),
  stream: opt(Schema.Boolean),
  stream_options: opt(
    Schema.Struct({
      include_usage: opt(Schema.Boolean),
      continuous_usage_stats: opt(Schema.Boolean),
    }),
  ),
  request_id: opt(Schema.String),
})
export type ChatRequest = typeof ChatRequest.Type

export const decodeChatRequest = Schema.decodeUnknownResult(ChatRequest)
