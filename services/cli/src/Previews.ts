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

/** Length of the longest common prefix of the texts, backed up to the start of a word. */
const commonStart = (texts: ReadonlyArray<string>): number => {
  if (texts.length < 2) return 0
  const [first, ...rest] = texts as [string, ...Array<string>]
  let length = 0
  while (length < first.length && rest.every((text) => text[length] === first[length])) length++
  while (length > 0 && first[length - 1] !== " ") length--
  return length
}

/**
 * One preview per text, each at most `width` characters: from where the distinct texts first differ (marked by a
 * leading "…"), so the previews of one step do not all read alike.
 */
export const previews = (texts: ReadonlyArray<string>, width = 100): ReadonlyArray<string> => {
  const flat = texts.map(flatten)
  const start = commonStart([...new Set(flat)])
  return flat.map((text) => clip(start === 0 ? text : `…${text.slice(start)}`, width))
}
