// The latent quality of a stage candidate, recomputed from its text alone by any simulator instance: a keyed hash
// of the normalised text, blended with correctness when the text commits to an option (a reasoning's lean or a
// conclusion's answer). This is what the judge compares and what later stages depend on.
import { unitHash } from "../random.ts"
import { extractAnswerLetter, normalise, type ParsedQuestion } from "./question.ts"

export const stageNames = ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"] as const
export type StageName = (typeof stageNames)[number]

/** Tunable constants of the content model (documented in the README). */
export const contentModel = {
  /** Chance that a reasoning leans to the correct option when the summary and caption have average quality. */
  leanBase: 0.63,
  /** How much the mean quality of summary and caption (0..1, centred on 0.5) moves that chance. */
  leanSlope: 0.5,
  /** Chance that a conclusion follows the reasoning's lean; otherwise it picks any option at random. */
  followLean: 0.88,
  /** Weight of correctness in the quality of a text that commits to an option (reasoning, conclusion). */
  reasoningCorrectWeight: 0.35,
  conclusionCorrectWeight: 0.5,
  /** Pre-check: P('correct') = base + slope * quality. */
  precheckBase: 0.3,
  precheckSlope: 0.65,
} as const

const tagPattern = /<\/?(SUMMARY|CAPTION|REASONING|CONCLUSION)>/g

/** Text with stage tags removed and whitespace normalised: the identity of a candidate. */
export const candidateKey = (text: string): string => normalise(text.replace(tagPattern, " "))

export const leanPattern = /points to option ([A-J])\b/

/** The option a text commits to: a reasoning's explicit lean, or a short conclusion's answer letter. */
export const committedOption = (text: string, question: ParsedQuestion | undefined): string | undefined => {
  if (question === undefined || question.options.length === 0) return undefined
  const lean = leanPattern.exec(text)?.[1]
  if (lean !== undefined) return lean
  const inner = text.replace(tagPattern, " ").trim()
  if (inner.split(/\s+/).length > 24) return undefined
  return extractAnswerLetter(inner, question.options)
}

/** Quality in [0, 1]. With a question that has a known answer, committing to the right option raises it. */
export const candidateQuality = (text: string, question?: ParsedQuestion): number => {
  const key = candidateKey(text)
  const base = unitHash("quality", key)
  if (question?.truth === undefined) return base
  const option = committedOption(text, question)
  if (option === undefined) return base
  const weight = leanPattern.test(text) ? contentModel.reasoningCorrectWeight : contentModel.conclusionCorrectWeight
  return weight * (option === question.truth ? 1 : 0) + (1 - weight) * base
}

/** The chance that a reasoning written after these summary and caption qualities leans to the correct option. */
export const leanCorrectChance = (summaryQuality: number, captionQuality: number): number => {
  const mean = (summaryQuality + captionQuality) / 2
  return Math.min(0.95, Math.max(0.05, contentModel.leanBase + contentModel.leanSlope * (mean - 0.5)))
}
