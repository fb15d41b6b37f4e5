import { Schema } from "effect"

/** The four stages LLaVA-CoT writes, in order. Only the CONCLUSION is shown to the user. */
export const Stage = Schema.Literals(["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"])
export type Stage = typeof Stage.Type

export const STAGES: ReadonlyArray<Stage> = ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"]

/** The tags are plain text, not special tokens: the model writes each opening tag itself. */
export const openTag = (stage: Stage): string => `<${stage}>`
export const closeTag = (stage: Stage): string => `</${stage}>`
