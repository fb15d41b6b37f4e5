// Reading a question: its stem, its multiple-choice options, and the ground truth every simulator instance derives
// from the option texts alone (a keyed hash), so any question with options has a checkable answer.
import { hash32 } from "../random.ts"

export interface QuestionOption {
  readonly letter: string
  readonly text: string
}

export interface ParsedQuestion {
  readonly raw: string
  readonly stem: string
  readonly options: ReadonlyArray<QuestionOption>
  /** The correct option letter, when the question has options. */
  readonly truth: string | undefined
  /** A short noun phrase naming what the question asks about, for plausible stage text. */
  readonly topic: string
}

const optionLine = /^\s*\(?([A-J])[.):]\s+(.+?)\s*$/

export const normalise = (text: string): string => text.toLowerCase().replace(/\s+/g, " ").trim()

/** The correct letter for a set of options: a keyed hash of their normalised texts. */
export const truthFor = (options: ReadonlyArray<QuestionOption>): string | undefined => {
  if (options.length < 2) return undefined
  const key = options.map((o) => normalise(o.text)).join("\u0001")
  return options[hash32(`truth\u0000${key}`) % options.length]!.letter
}

const parseOptions = (lines: ReadonlyArray<string>): Array<QuestionOption> => {
  const options: Array<QuestionOption> = []
  for (const line of lines) {
    const m = optionLine.exec(line)
    if (m === null) continue
    const letter = m[1]!
    // Options must run A, B, C, ... in order; anything else is prose that happens to start with a letter.
    if (letter.charCodeAt(0) - 65 !== options.length) continue
    options.push({ letter, text: m[2]! })
  }
  return options.length >= 2 ? options : []
}

/** The question's first sentence as an indirect question ("which room is shown ..."), for plausible stage text. */
const topicOf = (stem: string): string => {
  const first = (stem.split(/[?\n]/)[0] ?? "").replace(/[.;:!]+$/, "").trim()
  const words = first.split(/\s+/).filter(Boolean).slice(0, 14)
  if (words.length === 0) return "the content of the image"
  const phrase = words.join(" ")
  return /^[A-Z][a-z]/.test(phrase) ? phrase.charAt(0).toLowerCase() + phrase.slice(1) : phrase
}

export const parseQuestion = (raw: string): ParsedQuestion => {
  const lines = raw.split("\n")
  const options = parseOptions(lines)
  const stem = lines
    .filter((l) => !(options.length > 0 && optionLine.test(l)))
    .filter((l) => !/^\s*(options|choices)\s*:?\s*$/i.test(l))
    .join("\n")
    .trim()
  return { raw, stem, options, truth: truthFor(options), topic: topicOf(stem) }
}

/**
 * The option letter a conclusion names, in the spirit of VLMEvalKit's can_infer: strip punctuation, and take the one
 * option letter that stands alone among the last tokens; else "answer is X"; else the one option text it contains.
 */
export const extractAnswerLetter = (conclusion: string, options: ReadonlyArray<QuestionOption>): string | undefined => {
  const inner = /<CONCLUSION>([\s\S]*?)(<\/CONCLUSION>|$)/.exec(conclusion)?.[1] ?? conclusion
  const letters = new Set(options.map((o) => o.letter))
  const tokens = inner
    .replace(/[.()[\],:;!*#{}]/g, " ")
    .split(/\s+/)
    .filter(Boolean)
  const tail = tokens.slice(-5).filter((t) => letters.has(t))
  if (new Set(tail).size === 1) return tail[0]
  const said = /answer is\s*\(?([A-J])\b/i.exec(inner)?.[1]?.toUpperCase()
  if (said !== undefined && letters.has(said)) return said
  const lower = normalise(inner)
  const contained = options.filter((o) => lower.includes(normalise(o.text)))
  return contained.length === 1 ? contained[0]!.letter : undefined
}

/** Whether a conclusion names the correct option of a question (undefined when the question has no options). */
export const isConclusionCorrect = (questionText: string, conclusion: string): boolean | undefined => {
  const q = parseQuestion(questionText)
  if (q.truth === undefined) return undefined
  return extractAnswerLetter(conclusion, q.options) === q.truth
}
