/**
 * VLMEvalKit's multiple-choice answer extraction without its LLM fallback (vlmeval/utils/matching_util.py,
 * can_infer = can_infer_option, then can_infer_text), re-expressed here:
 * 1. a known refusal phrase → "Z";
 * 2. replace `.()[],:;!*#{}` by spaces and split on whitespace; exactly one option letter present as a
 *    standalone token → that letter; no option letter but a "Z" token → "Z";
 * 3. else, exactly one option's text (lower-cased) contained in the lower-cased answer → that letter;
 * 4. else undefined (VLMEvalKit would ask an LLM judge).
 * The stored versions of can_infer_option differ on a position rule for the letter (one version only accepts a
 * letter before the last five tokens); we follow the version without it.
 */
const REFUSALS = [
  "Sorry, I can't help with images of people yet.",
  "I can't process this file.",
  "I'm sorry, but without the image provided",
  "Cannot determine the answer",
]

const PUNCTUATION = /[.()[\],:;!*#{}]/g

/** `options` maps option letters ("A", "B", …) to their texts. */
export const extractChoice = (answer: string, options: Readonly<Record<string, string>>): string | undefined => {
  if (answer.includes("Failed to obtain answer via API")) return undefined
  if (REFUSALS.some((refusal) => answer.includes(refusal))) return "Z"
  const letters = Object.keys(options)
  const tokens = new Set(
    answer
      .replace(PUNCTUATION, " ")
      .split(/\s+/)
      .filter((token) => token.length > 0),
  )
  const named = letters.filter((letter) => tokens.has(letter))
  if (named.length === 1) return named[0]
  if (named.length === 0 && tokens.has("Z")) return "Z"
  const lower = answer.toLowerCase()
  const byText = letters.filter((letter) => lower.includes(String(options[letter]).toLowerCase()))
  return byText.length === 1 ? byText[0] : undefined
}
