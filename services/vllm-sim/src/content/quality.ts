// What a model can perceive of a stage text without the answer key: its look (a standard normal fixed by the text's
// wording, the lean sentence aside: how careful, specific and well grounded it reads), the option it commits to, and
// how hard the question is for this model. The generator writes correct leans more often after better-looking
// context and arguments (cot.ts), so looks carry evidence of correctness that a judge can perceive, noisily.
import { contentModel } from "./model.ts"
import { keyedNormal } from "./normal.ts"
import { extractAnswerLetter, normalise, type ParsedQuestion } from "./question.ts"

export const stageNames = ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"] as const
export type StageName = (typeof stageNames)[number]

const tagPattern = /<\/?(SUMMARY|CAPTION|REASONING|CONCLUSION)>/g

/** Text with stage tags removed and whitespace normalised: the identity of a candidate. */
export const candidateKey = (text: string): string => normalise(text.replace(tagPattern, " "))

export const leanPattern = /points to option ([A-J])\b/
const leanSentencePattern = /[^.]*points to option [A-J]\b[^.]*\.?/g

/** The look of a text: a standard normal fixed by its wording without the lean sentence. */
export const look = (text: string): number => keyedNormal("look", candidateKey(text.replace(leanSentencePattern, " ")))

/** The look as a number in (0, 1) (a logistic of it), for scorers that want a bounded quality. */
export const candidateQuality = (text: string): number => 1 / (1 + Math.exp(-1.702 * look(text)))

/** The option a text commits to: a reasoning's explicit lean, or a short conclusion's answer letter. */
export const committedOption = (text: string, question: ParsedQuestion | undefined): string | undefined => {
  if (question === undefined || question.options.length === 0) return undefined
  const lean = leanPattern.exec(text)?.[1]
  if (lean !== undefined) return lean
  const inner = text.replace(tagPattern, " ").trim()
  if (inner.split(/\s+/).length > 24) return undefined
  return extractAnswerLetter(inner, question.options)
}

/** How hard a question is for this model (standard normal, larger is harder), fixed by its options' texts. */
export const difficulty = (question: ParsedQuestion): number =>
  question.options.length === 0
    ? 0
    : keyedNormal("difficulty", question.options.map((o) => normalise(o.text)).join("\u0001"))

/** The model's log-odds of getting a question right, before what it has written (a stronger model: `boost` > 0). */
export const competenceLogit = (question: ParsedQuestion, boost = 0): number =>
  contentModel.skill + boost - contentModel.difficultySpread * difficulty(question)

/** The generator's log-odds of leaning to the correct option after a summary, a caption and an argument. */
export const leanLogit = (question: ParsedQuestion, summary: string, caption: string, argument: string): number =>
  competenceLogit(question) +
  (contentModel.contextWeight * (look(summary) + look(caption))) / 2 +
  contentModel.reasoningWeight * look(argument)

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x))
