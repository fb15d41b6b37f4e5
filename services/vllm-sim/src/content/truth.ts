// The hidden world: the correct option of each question and how hard the generator finds it. Only the generator's
// correctness model (cot.ts) and the benchmarks' grader (isConclusionCorrect) read the answer key; the judges, the
// pre-check and the reward model see texts only (test/truth-blind.test.ts holds them to it).
import { hash32 } from "../random.ts"
import { contentModel } from "./model.ts"
import { extractAnswerLetter, normalise, parseQuestion, type QuestionOption } from "./question.ts"

const optionsKey = (options: ReadonlyArray<QuestionOption>) => options.map((o) => normalise(o.text)).join("\u0001")

/**
 * The correct letter for a set of options: a hash of their normalised texts keyed by the world
 * (contentModel.world), so a test can move the answer key while every text stays the same.
 */
export const truthFor = (options: ReadonlyArray<QuestionOption>): string | undefined => {
  if (options.length < 2) return undefined
  return options[hash32(`truth\u0000${contentModel.world}\u0000${optionsKey(options)}`) % options.length]!.letter
}

/** Whether a conclusion names the correct option of a question (undefined when the question has no options). */
export const isConclusionCorrect = (questionText: string, conclusion: string): boolean | undefined => {
  const q = parseQuestion(questionText)
  const truth = truthFor(q.options)
  if (truth === undefined) return undefined
  return extractAnswerLetter(conclusion, q.options) === truth
}
