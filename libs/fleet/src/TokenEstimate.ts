import type { ChatMessage } from "@stagebeam/cot"
import { Effect } from "effect"

type Tokenizer = { readonly encode: (text: string, options: { bos: boolean; eos: boolean }) => ReadonlyArray<number> }

// Loaded on first use only (its vocabulary takes most of a second to load), and once.
let loading: Promise<Tokenizer> | undefined
const tokenizer = Effect.promise(() => {
  loading ??= import("llama3-tokenizer-js").then((module) => module.default as Tokenizer)
  return loading
})

/** Tokens of a text by the Llama 3 tokenizer. */
export const countTokens = (text: string) =>
  Effect.map(tokenizer, (t) => (text.length === 0 ? 0 : t.encode(text, { bos: false, eos: false }).length))

/** Llama 3's chat template spends about this many tokens per message on its header and end-of-turn markers. */
const PER_MESSAGE = 5

/**
 * Token counts for a server that reports none, from the Llama 3 tokenizer (the model's own, Llama 3.2 Vision
 * shares it). Prompt counts cover the text of the messages and the template's markers, not images: what an image
 * costs is the model's business, not the text's.
 */
export const estimateTokens = (messages: ReadonlyArray<ChatMessage>, completions: ReadonlyArray<string>) =>
  Effect.map(tokenizer, (t) => {
    const count = (text: string) => (text.length === 0 ? 0 : t.encode(text, { bos: false, eos: false }).length)
    const promptText = messages.map((message) =>
      typeof message.content === "string"
        ? count(message.content)
        : message.content.reduce((sum, part) => sum + (part.type === "text" ? count(part.text) : 0), 0),
    )
    return {
      prompt_tokens: 1 + promptText.reduce((sum, n) => sum + n + PER_MESSAGE, 0),
      completion_tokens: completions.reduce((sum, text) => sum + count(text), 0),
      estimated: true,
    }
  })
