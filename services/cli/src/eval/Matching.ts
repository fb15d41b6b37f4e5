// VLMEvalKit's answer matching, read at open-compass/VLMEvalKit@7de2dcbc (see Vlmeval.ts):
// vlmeval/utils/matching_util.py (can_infer_option, can_infer_text, can_infer), vlmeval/smp/misc.py
// (process_punctuation) and vlmeval/dataset/utils/yorn.py (YOrN_Extraction).

/** Option letters to their texts, in order (vlmeval build_choices: the A…Z columns that are not empty). */
export type Choices = Readonly<Record<string, string>>

const REJECT_TO_ANSWER = [
  "Sorry, I can't help with images of people yet.",
  "I can't process this file.",
  "I'm sorry, but without the image provided",
  "Cannot determine the answer",
]

/** can_infer_option: the one option letter standing alone among the answer's tokens; "Z" for a refusal; else false. */
export const canInferOption = (answer: string, choices: Choices): string | false => {
  if (answer.includes("Failed to obtain answer via API")) return false
  if (REJECT_TO_ANSWER.some((refusal) => answer.includes(refusal))) return "Z"
  let stripped = answer
  for (const c of ".()[],:;!*#{}") stripped = stripped.replaceAll(c, " ")
  // Python's str.split(): runs of whitespace, no empty tokens.
  const splits = stripped.split(/\s+/).filter((token) => token !== "")
  const count = (letters: Iterable<string>) => [...letters].filter((c) => splits.includes(c)).length
  const letters = Object.keys(choices)
  const found = count(letters)
  if (found === 1) return letters.find((letter) => splits.includes(letter))!
  // count_choice(splits, {'Z', ''}): '' is never a token, so this is "Z" standing alone.
  if (found === 0 && count(["Z", ""]) === 1) return "Z"
  return false
}

/** can_infer_text: the one option whose text (lower-cased) the answer contains. */
export const canInferText = (answer: string, choices: Choices): string | false => {
  const lower = answer.toLowerCase()
  const candidates = Object.entries(choices).filter(([, text]) => lower.includes(String(text).toLowerCase()))
  return candidates.length === 1 ? candidates[0]![0] : false
}

/** can_infer: the letter, else the option text, else false. */
export const canInfer = (answer: string, choices: Choices): string | false =>
  canInferOption(answer, choices) || canInferText(answer, choices)

const PUNCTUATION = [
  ";",
  "/",
  "[",
  "]",
  '"',
  "{",
  "}",
  "(",
  ")",
  "=",
  "+",
  "\\",
  "_",
  "-",
  ">",
  "<",
  "@",
  "`",
  ",",
  "?",
  "!",
]

/**
 * process_punctuation: a mark next to a space (or any text with a digit-comma-digit) is deleted, else replaced by a
 * space; then periods not before a digit go. (`periodStrip.sub('', text, re.UNICODE)` passes re.UNICODE = 32 as the
 * count, so at most 32 periods are removed; its look-behind is written `(?!<=\d)`, a look-ahead that always holds.)
 */
export const processPunctuation = (text: string): string => {
  let out = text
  const commaBetweenDigits = /(\d)(,)(\d)/.test(text)
  for (const p of PUNCTUATION) {
    out =
      text.includes(`${p} `) || text.includes(` ${p}`) || commaBetweenDigits
        ? out.replaceAll(p, "")
        : out.replaceAll(p, " ")
  }
  let removed = 0
  return out.replace(/\.(?!\d)/g, (dot) => (removed++ < 32 ? "" : dot))
}

/** YOrN_Extraction: "Yes" or "No" when exactly one of the words appears, else "Unknown". */
export const yesOrNo = (output: string): "Yes" | "No" | "Unknown" => {
  const words = processPunctuation(output.toLowerCase())
    .split(/\s+/)
    .filter((w) => w !== "")
  const yes = words.includes("yes")
  const no = words.includes("no")
  return yes && !no ? "Yes" : no && !yes ? "No" : "Unknown"
}
