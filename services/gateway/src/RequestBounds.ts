/**
 * The lengths a request's text fields may have, on both doors (gRPC RequestSchema, HTTP ChatRequest): checked by
 * the schemas before anything else reads the text (no tokenizing, no lookups), so a request's cost before admission
 * grows at most linearly with its size and stays small.
 */
export const REQUEST_BOUNDS = {
  /** The question, in characters (UTF-16 units): about 4,000 tokens, half the model's usual 8,192 context. */
  questionChars: 16_384,
  /** A name the gateway looks up or compares (judge, model, role, MIME type). */
  nameChars: 256,
  /** Messages and content parts of one chat request (the search takes one user message with text and one image). */
  messages: 16,
  parts: 64,
} as const

/** The most of a caller's input an error message may quote back. */
const ECHO_CHARS = 512

/** `text` cut to what an error may echo: a long input must not make the error itself large. */
export const echoable = (text: string): string =>
  text.length <= ECHO_CHARS ? text : `${text.slice(0, ECHO_CHARS)}… (${text.length - ECHO_CHARS} more characters)`
