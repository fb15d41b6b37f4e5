import { STAGES, type Stage } from "./Stage.ts"

/** One stage found in a text: its name and the text between its tags (untrimmed, as the reference's regex gives it). */
export interface ParsedStage {
  readonly stage: Stage
  readonly text: string
}

// Non-greedy and across lines, like the reference's `re.search(r'<X>(.*?)</X>', text, re.DOTALL)`.
const stagePattern = new RegExp(`<(${STAGES.join("|")})>([\\s\\S]*?)</\\1>`, "g")

/** Every complete stage (opening and closing tag) in the text, in the order they appear. */
export const parseStages = (text: string): ReadonlyArray<ParsedStage> =>
  Array.from(text.matchAll(stagePattern), (match) => ({ stage: match[1] as Stage, text: match[2] ?? "" }))

/** The inner text of the first complete `<STAGE>…</STAGE>` in the text, or undefined when there is none. */
export const extractStage = (text: string, stage: Stage): string | undefined =>
  parseStages(text).find((parsed) => parsed.stage === stage)?.text

/**
 * The user's answer: the trimmed text inside `<CONCLUSION>`. A conclusion cut off before its closing tag
 * (ran out of tokens) yields the text after the opening tag, so an answer cut by length can still be scored.
 * Undefined when the text has no conclusion at all.
 */
export const conclusionOf = (text: string): string | undefined => {
  const complete = extractStage(text, "CONCLUSION")
  if (complete !== undefined) return complete.trim()
  const open = text.lastIndexOf("<CONCLUSION>")
  return open === -1 ? undefined : text.slice(open + "<CONCLUSION>".length).trim()
}
