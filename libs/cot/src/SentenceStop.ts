import llama3Tokenizer from "llama3-tokenizer-js"

let cached: ReadonlyArray<number> | undefined

/**
 * The Llama 3 tokens whose text ends in a period: the reference's sentence-level search stops when the decoded
 * output ends with "." (StopOnPeriod in inference/demo/simple_inference.py, PKU-YuanGroup/LLaVA-CoT@081cc3f), which
 * is after exactly these tokens. vLLM's stop string "." also stops inside tokens such as ".\n\n" (one token) and
 * drops the rest, where the reference writes on; sent as `stop_token_ids`, a sample stops where the reference's does
 * and keeps the token. (Byte-level BPE writes "." as itself, so the vocabulary's strings can be read directly.)
 */
export const periodTokenIds = (): ReadonlyArray<number> => {
  if (cached === undefined) {
    const vocabulary = (llama3Tokenizer as unknown as { readonly vocabById: ReadonlyArray<string> }).vocabById
    cached = vocabulary.flatMap((token, id) => (token.endsWith(".") ? [id] : []))
  }
  return cached
}
