import type { ChatMessage } from "@stagebeam/cot"
import { Effect } from "effect"

type Tokenizer = { readonly encode: (text: string, options: { bos: boolean; eos: boolean }) => ReadonlyArray<number> }

// Loaded on first use only (its vocabulary takes most of a second to load), and once.
let loading: Promise<Tokenizer> | undefined
const tokenizer = Effect.promise(() => {
  loading ??= import("llama3-tokenizer-js").then((module) => module.default as Tokenizer)
  return loading
})

/**
 * Loads the tokenizer now: a server loads it at start, so that its first request does not hold the event loop for
 * the vocabulary's load (most of a second).
 */
export const loadTokenizer = Effect.asVoid(tokenizer)

/**
 * llama3-tokenizer-js merges a pre-token in time that grows faster than its length (1 MB of one letter took 7 s, and
 * 300 k random letters overflowed the stack): text is encoded in pieces of at most this many characters, cut at
 * whitespace where there is some, so each piece costs a bounded time. A word longer than a piece is counted as
 * pieces (a token or so more than whole; such words are not language).
 */
const PIECE_CHARS = 512
/**
 * Characters counted exactly per call; beyond them the count is extrapolated from the counted ones' tokens per
 * character. Random letters encode at about 4 µs a character here, so a call's exact work stays near 100 ms.
 */
const EXACT_CHARS = 32_768

/** The longest the counting holds the event loop before it lets other work (I/O, timers) run. */
const SLICE_MS = 10
const toEventLoop = Effect.callback<void>((resume) => {
  setImmediate(() => resume(Effect.void))
})

/** Where the piece that starts at `start` ends: at the last whitespace before the limit, else at the limit. */
const pieceEnd = (text: string, start: number) => {
  const limit = start + PIECE_CHARS
  if (limit >= text.length) return text.length
  for (let i = limit; i > start + PIECE_CHARS / 2; i--) {
    const code = text.charCodeAt(i)
    if (code === 32 || code === 10 || code === 9 || code === 13) return i
  }
  return limit
}

/**
 * Counts the tokens of texts in bounded pieces, letting the event loop run every SLICE_MS, and exactly for the
 * first EXACT_CHARS characters only.
 */
const countAll = Effect.fnUntraced(function* (t: Tokenizer, texts: ReadonlyArray<string>) {
  const counted = texts.map(() => 0)
  const uncounted = texts.map(() => 0)
  let exactChars = 0
  let exactTokens = 0
  let slice = performance.now()
  for (const [index, text] of texts.entries()) {
    let start = 0
    while (start < text.length && exactChars < EXACT_CHARS) {
      const end = pieceEnd(text, start)
      const tokens = t.encode(text.slice(start, end), { bos: false, eos: false }).length
      counted[index]! += tokens
      exactTokens += tokens
      exactChars += end - start
      start = end
      if (performance.now() - slice > SLICE_MS) {
        yield* toEventLoop
        slice = performance.now()
      }
    }
    uncounted[index] = text.length - start
  }
  const perChar = exactChars === 0 ? 0.25 : exactTokens / exactChars
  return counted.map((tokens, index) => tokens + Math.ceil(uncounted[index]! * perChar))
})

/** Tokens of a text by the Llama 3 tokenizer (bounded work: see countAll). */
export const countTokens = (text: string) =>
  Effect.flatMap(tokenizer, (t) => Effect.map(countAll(t, [text]), (counts) => counts[0]!))

/** Llama 3's chat template spends about this many tokens per message on its header and end-of-turn markers. */
const PER_MESSAGE = 5

/**
 * Token counts for a server that reports none, from the Llama 3 tokenizer (the model's own, Llama 3.2 Vision
 * shares it). Prompt counts cover the text of the messages and the template's markers, not images: what an image
 * costs is the model's business, not the text's. The work is bounded however long the texts are (countAll).
 */
export const estimateTokens = Effect.fnUntraced(function* (
  messages: ReadonlyArray<ChatMessage>,
  completions: ReadonlyArray<string>,
) {
  const t = yield* tokenizer
  const promptTexts = messages.map((message) =>
    typeof message.content === "string"
      ? [message.content]
      : message.content.flatMap((part) => (part.type === "text" ? [part.text] : [])),
  )
  const counts = yield* countAll(t, [...completions, ...promptTexts.flat()])
  const completionTokens = counts.slice(0, completions.length).reduce((sum, n) => sum + n, 0)
  const promptTokens = counts.slice(completions.length).reduce((sum, n) => sum + n, 0)
  return {
    prompt_tokens: 1 + promptTokens + PER_MESSAGE * messages.length,
    completion_tokens: completionTokens,
    estimated: true,
  }
})
