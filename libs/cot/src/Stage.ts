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
