// A stand-in for the LLM that VLMEvalKit's scoring asks (GPT-4 in the paper's runs): it recognises VLMEvalKit's
// grading prompts (open-compass/VLMEvalKit@7de2dcbc: multiple_choice.py build_prompt, yorn.py YOrN_match_prompt,
// mmvet.py build_mmvet_gpt4_prompt, mathvista.py build_mathvista_gpt4_prompt) and answers each in the format the
// scorer parses, by a fixed, simple rule, so `stagebeam eval` runs every benchmark end to end with no model.

const CHOICE_OPENING = "You are an AI assistant who will help me to match an answer with several options"
const YES_NO_OPENING = "You are an AI assistant who will help me to match an answer with two options"
const MMVET_OPENING = "Compare the ground truth and prediction from AI models"
const MATHVISTA_MARK = "Then extract the answer from the model response and type it at the end of the prompt."

const after = (text: string, mark: string) => {
  const at = text.lastIndexOf(mark)
  return at < 0 ? undefined : text.slice(at + mark.length)
}

/** The option whose text the answer holds (the longest such), else Z. */
const matchOption = (prompt: string): string => {
  const last = after(prompt, "Example 3: \n") ?? ""
  const answer = (after(last, "\nAnswer: ") ?? "").replace(/\nYour output: $/, "").toLowerCase()
  const options = [...last.matchAll(/^([A-Z])\. (.+)$/gm)].map((m) => ({
    letter: m[1]!,
    text: m[2]!.trim().toLowerCase(),
  }))
  const held = options
    .filter((o) => o.text !== "" && answer.includes(o.text))
    .sort((a, b) => b.text.length - a.text.length)
  return held[0]?.letter ?? "Z"
}

/** No for a negation, Yes for anything else said, Unknown for nothing. */
const matchYesNo = (prompt: string): string => {
  const answer = (after(prompt, "\nAnswer: ") ?? "")
    .replace(/\nYour output: $/, "")
    .trim()
    .toLowerCase()
  if (answer === "") return "Unknown"
  return /\b(no|not|none|never)\b|n't\b/.test(answer) ? "No" : "Yes"
}

/** MMVet: the share of the ground truth's <AND> parts the prediction holds; for <OR>, 1.0 if it holds any. */
const gradeOpenAnswer = (prompt: string): string => {
  const row = (prompt.split("| 1.0\n").at(-1) ?? "").replace(/^\n/, "").replace(/ \| $/, "")
  const [, truth = "", ...rest] = row.split(" | ")
  const prediction = rest.join(" | ").toLowerCase()
  const any = truth.includes("<OR>")
  const parts = truth
    .split(/<AND>|<OR>/)
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== "")
  if (parts.length === 0) return "0.0"
  const held = parts.filter((part) => prediction.includes(part)).length
  const score = any ? (held > 0 ? 1 : 0) : held / parts.length
  return (Math.round(score * 10) / 10).toFixed(1)
}

/** MathVista: an option letter for a question with choices, else the response's last number, else the response. */
const extractMathAnswer = (prompt: string): string => {
  const response = (after(prompt, "Model respone: ") ?? "").replace(/Extracted answer:$/, "").trim()
  const question = prompt.slice(0, prompt.lastIndexOf("Model respone: "))
  const ownQuestion = after(question, "Extracted answer: B\n\n") ?? question
  if (/Choices:/.test(ownQuestion)) {
    const letter = response.match(/\(([A-Z])\)|\b([A-Z])\b/)
    if (letter !== null) return letter[1] ?? letter[2]!
  }
  const numbers = response.match(/-?\d+(?:\.\d+)?/g)
  return numbers?.at(-1) ?? response
}

/** The grader's answer to a VLMEvalKit grading prompt, or undefined for any other prompt. */
export const answerGradingPrompt = (userText: string): string | undefined => {
  const text = userText.trimStart()
  if (text.startsWith(CHOICE_OPENING)) return matchOption(text)
  if (text.startsWith(YES_NO_OPENING)) return matchYesNo(text)
  if (text.startsWith(MMVET_OPENING)) return gradeOpenAnswer(text)
  if (text.includes(MATHVISTA_MARK)) return extractMathAnswer(text)
  return undefined
}
