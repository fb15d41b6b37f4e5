// Token counts from the real Llama 3 tokenizer (llama3-tokenizer-js), which Llama 3.2 Vision shares.
import llama3Tokenizer from "llama3-tokenizer-js"

const encodeWhole = (text: string): Array<number> => llama3Tokenizer.encode(text, { bos: false, eos: false })

// The tokenizer's own pre-tokenizer (llama3-tokenizer-js CLEAN_LLAMA3_REGEX_STRING, the Llama 3 tokenizer.json split
// pattern) and its special-token pattern. BPE merges never cross a pre-token, so a text's ids are its pre-tokens' ids
// one after another, and each pre-token's ids can be remembered across requests (the library's cache lives for one
// call): the sim spent a third of its CPU re-tokenizing the same words (bench/scaling.ts, issue #24).
const PRETOKEN =
  /(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu
const SPECIAL =
  /<\|(?:begin_of_text|end_of_text|start_header_id|end_header_id|eot_id|eom_id|python_tag|finetune_right_pad_id|reserved_special_token_\d+)\|>/
/** Pre-tokens remembered at most (a few MB): past it the cache starts again. */
const PRETOKEN_CACHE_LIMIT = 100_000
const pretokenIds = new Map<string, ReadonlyArray<number>>()

const idsOf = (pretoken: string, into: Array<number>) => {
  let ids = pretokenIds.get(pretoken)
  if (ids === undefined) {
    if (pretokenIds.size >= PRETOKEN_CACHE_LIMIT) pretokenIds.clear()
    ids = encodeWhole(pretoken)
    pretokenIds.set(pretoken, ids)
  }
  for (const id of ids) into.push(id)
}

/** The text's token ids (a new array each call), as llama3Tokenizer.encode gives them. */
export const encode = (text: string): Array<number> => {
  // Text naming a special token is rare here: the library splits it out, as it always has.
  if (SPECIAL.test(text)) return encodeWhole(text)
  const ids: Array<number> = []
  let at = 0
  for (const match of text.matchAll(PRETOKEN)) {
    if (at < match.index) idsOf(text.slice(at, match.index), ids)
    if (match[0].length > 0) idsOf(match[0], ids)
    at = match.index + match[0].length
  }
  if (at < text.length) idsOf(text.slice(at), ids)
  return ids
}

const pieceOfId = new Map<number, string>()

export const decode = (ids: ReadonlyArray<number>): string => {
  if (ids.length !== 1) return llama3Tokenizer.decode([...ids])
  const id = ids[0]!
  let piece = pieceOfId.get(id)
  if (piece === undefined) {
    piece = llama3Tokenizer.decode([id])
    pieceOfId.set(id, piece)
  }
  return piece
}

export const countTokens = (text: string): number => (text.length === 0 ? 0 : encode(text).length)

/** Text of each token, such that their concatenation is the decoded text (for streaming deltas and logprobs). */
export const tokenPieces = (ids: ReadonlyArray<number>): Array<string> => {
  const simple = ids.map((id) => decode([id]))
  if (!simple.some((p) => p.includes("\uFFFD"))) return simple
  const pieces: Array<string> = []
  let previous = ""
  for (let i = 0; i < ids.length; i++) {
    const text = decode(ids.slice(0, i + 1))
    // A token that ends inside a multi-byte character decodes to U+FFFD; hold it back until the character completes.
    if (text.endsWith("\uFFFD") && i < ids.length - 1) {
      pieces.push("")
      continue
    }
    pieces.push(text.slice(previous.length))
    previous = text
  }
  return pieces
}

/** Llama 3 chat template overhead: one header is <|start_header_id|> role <|end_header_id|> "\n\n". */
export const headerTokens = 4
export const specialTokenIds = { beginOfText: 128000, endOfTurn: 128009, image: 128256 } as const
