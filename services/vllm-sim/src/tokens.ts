// Token counts from the real Llama 3 tokenizer (llama3-tokenizer-js), which Llama 3.2 Vision shares.
import llama3Tokenizer from "llama3-tokenizer-js"

export const encode = (text: string): Array<number> => llama3Tokenizer.encode(text, { bos: false, eos: false })

export const decode = (ids: ReadonlyArray<number>): string => llama3Tokenizer.decode([...ids])

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
