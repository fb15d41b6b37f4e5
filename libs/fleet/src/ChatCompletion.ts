import type { ChatMessage } from "@stagebeam/cot"
import { Schema } from "effect"

const StopMatch = Schema.NullOr(Schema.Union([Schema.String, Schema.Number]))

/** One token's logprob and its alternatives, as the chat API reports them. */
export const TokenLogprob = Schema.Struct({
  token: Schema.String,
  logprob: Schema.Number,
  top_logprobs: Schema.optional(
    Schema.NullOr(Schema.Array(Schema.Struct({ token: Schema.String, logprob: Schema.Number }))),
  ),
})
export type TokenLogprob = typeof TokenLogprob.Type

/** The part of a chat choice the orchestrator reads, as any OpenAI-compatible server sends it. */
export const ChatChoice = Schema.Struct({
  index: Schema.Number,
  message: Schema.Struct({ content: Schema.optional(Schema.NullOr(Schema.String)) }),
  finish_reason: Schema.NullOr(Schema.String),
  /** vLLM: the stop string (or token id) that ended the sample. */
  stop_reason: Schema.optional(StopMatch),
  /** SGLang's name for the same. */
  matched_stop: Schema.optional(StopMatch),
  logprobs: Schema.optional(
    Schema.NullOr(Schema.Struct({ content: Schema.optional(Schema.NullOr(Schema.Array(TokenLogprob))) })),
  ),
})

/** A chat completion as servers send it: `usage` may be missing (many OpenAI-compatible servers leave it out). */
export const WireCompletion = Schema.Struct({
  id: Schema.String,
  model: Schema.String,
  choices: Schema.Array(ChatChoice),
  usage: Schema.optional(
    Schema.NullOr(Schema.Struct({ prompt_tokens: Schema.Number, completion_tokens: Schema.Number })),
  ),
})
export type WireCompletion = typeof WireCompletion.Type

export interface CompletionChoice {
  readonly index: number
  readonly message: { readonly content: string | null }
  readonly finish_reason: string | null
  /** The stop string that ended the sample, when the server said (vLLM's stop_reason, SGLang's matched_stop). */
  readonly stop_reason?: string | null
  /** Token logprobs, when asked for and the server gives them. */
  readonly logprobs?: ReadonlyArray<TokenLogprob> | undefined
}

/** A completion as the pool hands it on: stop strings applied, token counts always there. */
export interface ChatCompletion {
  readonly id: string
  readonly model: string
  readonly choices: ReadonlyArray<CompletionChoice>
  readonly usage: {
    readonly prompt_tokens: number
    readonly completion_tokens: number
    /** The server sent no counts (or the call was cut short): these come from the Llama 3 tokenizer. */
    readonly estimated?: boolean
  }
}

/** A chat request with the vLLM extensions the orchestrator uses. `model` is filled in by the pool. */
export interface ChatRequest {
  readonly messages: ReadonlyArray<ChatMessage>
  readonly n?: number
  readonly seed?: number
  readonly temperature?: number
  readonly top_p?: number
  /** vLLM's (and SGLang's) top-k sampling; the REFERENCE preset sends HF generate's default, 50. */
  readonly top_k?: number
  readonly max_tokens?: number
  readonly stop?: ReadonlyArray<string>
  /** vLLM's (and SGLang's) token ids that end a sample, kept in its text. */
  readonly stop_token_ids?: ReadonlyArray<number>
  /** vLLM only; other servers get it dropped, and the stop string is put back from what they report. */
  readonly include_stop_str_in_output?: boolean
  readonly continue_final_message?: boolean
  readonly add_generation_prompt?: boolean
  readonly logprobs?: boolean
  readonly top_logprobs?: number
  /** Constrained choice: send the field the pool's capabilities name (see `choiceConstraint`). */
  readonly guided_choice?: ReadonlyArray<string>
  readonly structured_outputs?: { readonly choice: ReadonlyArray<string> }
  /** vLLM with --scheduling-policy priority: lower runs first. Only for pools whose servers declare it. */
  readonly priority?: number
}

/** A completion together with the server that produced it. */
export interface ChatResult {
  readonly completion: ChatCompletion
  /** The base URL of the server that answered. */
  readonly server: string
}
