/**
 * Candidate previews that show how the candidates of a step differ: texts sampled from the same prefix usually
 * share their first words, so each preview starts where the step's candidates stop agreeing.
 */

const TAG = /^<([A-Z]+)>([\s\S]*?)(<\/\1>)?$/

/** A text on one line, without the stage's tags. */
export const flatten = (text: string): string => {
  const trimmed = text.trim()
  const inner = TAG.exec(trimmed)?.[2] ?? trimmed
  return inner.replace(/\s+/g, " ").trim()
}

export const clip = (text: string, width: number): string =>
  text.length > width ? `${text.slice(0, width - 1)}…` : text

/** Length of the common prefix of two texts. */
const sharedStart = (a: string, b: string): number => {
  let length = 0
  while (length < a.length && a[length] === b[length]) length++
  return length
}

/** Words kept before the point where a text departs from its nearest sibling, to read it in context. */
const CONTEXT_WORDS = 2

/** Where a preview starts: a few words before the text departs from the candidate most like it, at a word start. */
const startOf = (text: string, others: ReadonlyArray<string>): number => {
  const shared = Math.max(0, ...others.map((other) => sharedStart(text, other)))
  if (shared === 0 || shared >= text.length) return 0
  let start = shared
  for (let words = 0; words <= CONTEXT_WORDS && start > 0; words++) {
    start = text.lastIndexOf(" ", start - 2) + 1
  }
  return start
}

/**
 * One preview per text, each at most `width` characters, starting shortly before where it departs from the most
 * similar other candidate (marked by a leading "…"), so that candidates that begin alike read apart.
 */
export const previews = (texts: ReadonlyArray<string>, width = 100): ReadonlyArray<string> => {
  const flat = texts.map(flatten)
  return flat.map((text) => {
    const others = [...new Set(flat.filter((other) => other !== text))]
    const start = startOf(text, others)
    return clip(start === 0 ? text : `…${text.slice(start)}`, width)
  })
}
