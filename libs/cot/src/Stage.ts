import { Schema } from "effect"

/** The four stages LLaVA-CoT writes, in order. Only the CONCLUSION is shown to the user. */
export const Stage = Schema.Literals(["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"])
export type Stage = typeof Stage.Type

export const STAGES: ReadonlyArray<Stage> = ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"]

/**
 * What one search step samples and judges: one stage (stage-level search), a whole answer ("ALL": best-of-N,
 * greedy, the completion of a cut answer) or the next sentence ("SENTENCE": sentence-level search).
 */
export const StepKind = Schema.Literals([...Stage.literals, "ALL", "SENTENCE"])
export type StepKind = typeof StepKind.Type

/** The tags are plain text, not special tokens: the model writes each opening tag itself. */
export const openTag = (stage: Stage): string => `<${stage}>`
export const closeTag = (stage: Stage): string => `</${stage}>`

/**
 * The caption used for a question without an image. The model never saw a text-only question in training, and
 * asked to caption a missing image it tends to invent one, which the reasoning then builds on. So for a text-only
 * question the stage-level search does not sample the CAPTION stage: it writes this caption into the prefix
 * (judging "which caption better describes the image" is meaningless without an image).
 */
export const NO_IMAGE_CAPTION = "There is no image; the question is answered from its text alone."

/** What the model writes between two stages: its closing tag's last token is `">\n\n"` (Llama 3), not `">"`. */
export const STAGE_SEPARATOR = "\n\n"

/**
 * The prefix to continue an answer from so it tokenizes as the model's own output did. The reference continues each
 * stage from the winner's token ids (simple_inference.py), whose closing tag ends in the one token `">\n\n"`; vLLM's
 * stop string cuts that token's text at `">"`, and a prefix ending in `"</SUMMARY>"` re-tokenizes with `">"` as its
 * last token, a prompt the model never saw. The separator puts the model's token back.
 */
export const continuationPrefix = (answer: string): string =>
  /<\/(SUMMARY|CAPTION|REASONING)>$/.test(answer) ? `${answer}${STAGE_SEPARATOR}` : answer
