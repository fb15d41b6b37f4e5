// Reading a question: its stem and its multiple-choice options, as any model shown the prompt reads them. The answer
// key is not here: it is truth.ts's, which only the generator's correctness model and the grader read.

export interface QuestionOption {
  readonly letter: string
  readonly text: string
}

export interface ParsedQuestion {
  readonly raw: string
  readonly stem: string
  readonly options: ReadonlyArray<QuestionOption>
  /** A short noun phrase naming what the question asks about, for plausible stage text. */
  readonly topic: string
}

const optionLine = /^\s*\(?([A-J])[.):]\s+(.+?)\s*$/

export const normalise = (text: string): string => text.toLowerCase().replace(/\s+/g, " ").trim()

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
  return { raw, stem, options, topic: topicOf(stem) }
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
