import type { ChatMessage } from "@stagebeam/cot"
import { Schema } from "effect"

/** The part of an OpenAI chat completion the orchestrator reads, checked at the boundary. */
export const ChatChoice = Schema.Struct({
  index: Schema.Number,
  message: Schema.Struct({ content: Schema.NullOr(Schema.String) }),
  finish_reason: Schema.NullOr(Schema.String),
})

export const ChatCompletion = Schema.Struct({
  id: Schema.String,
  model: Schema.String,
  choices: Schema.Array(ChatChoice),
  usage: Schema.Struct({ prompt_tokens: Schema.Number, completion_tokens: Schema.Number }),
})
export type ChatCompletion = typeof ChatCompletion.Type

/** A chat request with the vLLM extensions the orchestrator uses. `model` is filled in by the pool. */
export interface ChatRequest {
  readonly messages: ReadonlyArray<ChatMessage>
  readonly n?: number
  readonly seed?: number
  readonly temperature?: number
  readonly top_p?: number
  readonly max_tokens?: number
  readonly stop?: ReadonlyArray<string>
  readonly include_stop_str_in_output?: boolean
  readonly continue_final_message?: boolean
  readonly add_generation_prompt?: boolean
}

/** A completion together with the server that produced it. */
export interface ChatResult {
  readonly completion: ChatCompletion
  /** The base URL of the server that answered. */
  readonly server: string
}
