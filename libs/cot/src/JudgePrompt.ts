import { CRITERIA } from "./Criteria.ts"
import { type ChatMessage, userTurn } from "./Messages.ts"
import type { VerdictMode, Wording } from "./Options.ts"
import { referenceCorrectnessPrompt, referenceJudgePrompt } from "./ReferencePrompt.ts"
import type { StepKind } from "./Stage.ts"

/** The verdict format the judge is asked for. */
export const JUDGE_OUTPUT_FORMAT = 'Output format: "Since [reason], I choose response [1/2]."'

/** The format of a CHOICE verdict, whose answer the server constrains to one of VERDICT_LABELS. */
export const CHOICE_OUTPUT_FORMAT = 'Output format: "1" or "2", the number of the better response, and nothing else.'

/** The two answers a CHOICE verdict may give, in the order of the responses. */
export const VERDICT_LABELS = ["1", "2"] as const

const FORMAT_INSTRUCTION =
  "Please strictly follow the following format requirements when outputting, and don’t have any other unnecessary words."

export interface JudgePromptInput {
  readonly question: string
  /** Context for the judge: the chosen caption for REASONING, caption + reasoning for CONCLUSION, the answer so far for SENTENCE. */
  readonly hint?: string | undefined
  /**
   * The first candidate's text, shown as "Response 1". Undefined when the judge cannot read one (a malformed
   * candidate kept as the reference keeps it): it is left out and the other is shown as "Response 1".
   */
  readonly first: string | undefined
  /** The second candidate's text, shown as "Response 2" (or undefined, as `first`). */
  readonly second: string | undefined
}

/** The texts the prompt shows, in order: the readable ones of the two. */
export const shownResponses = (input: {
  readonly first: string | undefined
  readonly second: string | undefined
}): ReadonlyArray<string> => [input.first, input.second].filter((text): text is string => text !== undefined)

/**
 * The text of the pairwise judge prompt. REFERENCE: the reference's bytes (ReferencePrompt.ts). CORRECTED: the same
 * layout with "Response" spelled as the verdict format spells it (the reference writes "Repsonse 1/2") and no stray
 * space before "Please" when the criterion has no recall sentence.
 */
export const judgePrompt = (
  kind: StepKind,
  input: JudgePromptInput,
  wording: Wording = "CORRECTED",
  verdict: VerdictMode = "FREE_TEXT",
): string => {
  const responses = shownResponses(input)
  if (wording === "REFERENCE") {
    const prompt = referenceJudgePrompt(kind, { question: input.question, hint: input.hint, responses })
    // A CHOICE verdict cannot write the reference's sentence: only its output format line changes.
    return verdict === "CHOICE" ? prompt.replace(JUDGE_OUTPUT_FORMAT, CHOICE_OUTPUT_FORMAT) : prompt
  }
  const criterion = CRITERIA[kind]
  const hint = input.hint !== undefined && input.hint.length > 0 ? `\n\nHint about the Question: ${input.hint}` : ""
  const recall = criterion.recall.length > 0 ? `${criterion.recall} ` : ""
  const shown = responses.map((response, i) => `\nResponse ${i + 1}: ${response}`).join("")
  return (
    `${criterion.task}\n\nQuestion: ${input.question}${hint}${shown}` +
    `\n\n${recall}${FORMAT_INSTRUCTION}\n\n${verdict === "CHOICE" ? CHOICE_OUTPUT_FORMAT : JUDGE_OUTPUT_FORMAT}`
  )
}

/** The judge's chat messages: one user turn, the image first (the judge sees the image), then the prompt. */
export const judgeMessages = (
  kind: StepKind,
  input: JudgePromptInput & { readonly imageUrl?: string | undefined },
  wording: Wording = "CORRECTED",
  verdict: VerdictMode = "FREE_TEXT",
): ReadonlyArray<ChatMessage> => [
  userTurn({ question: judgePrompt(kind, input, wording, verdict), imageUrl: input.imageUrl }),
]

/** The conclusion judge's hint: the chosen caption and reasoning, kept apart by a blank line (the reference joins them). */
export const conclusionHint = (caption: string, reasoning: string, wording: Wording = "CORRECTED"): string =>
  wording === "REFERENCE" ? caption + reasoning : `${caption}\n\n${reasoning}`

export interface ParsedVerdict {
  /** 0 = Response 1, 1 = Response 2. */
  readonly winner: 0 | 1
  /** False when the text named neither response; the reference then silently picks the second. */
  readonly explicit: boolean
}

/**
 * The reference's rule: contains "I choose response 1" → the first; anything else → the second.
 * We keep that outcome but tell an explicit "I choose response 2" apart from garbage (explicit = false).
 * Matching is case-sensitive, as in the reference.
 */
export const parseVerdict = (raw: string): ParsedVerdict => {
  if (raw.includes("I choose response 1")) return { winner: 0, explicit: true }
  return { winner: 1, explicit: raw.includes("I choose response 2") }
}

export interface CorrectnessPromptInput {
  /** The chosen caption: the "given information" the reasoning may rely on. */
  readonly hint?: string | undefined
  readonly reasoning: string
}

// The reference's wording, without the source indentation that leaked into its prompt; the reference also
// misspells "involves" as "invovles".
const CORRECTNESS_INSTRUCTIONS = [
  "Now you act as a judge, helping me determine whether the reasoning process in the given text is correct and accurate based on the given information.",
  "You should assume that the given information about the image is correct.",
  "You should only consider the reasoning process itself, not the correctness of the background information.",
  "If the reasoning process involves any calculations, you should verify the accuracy of the calculations.",
  "You should output 'correct' if you don't find any errors in the reasoning process, and 'incorrect' if you find any errors.",
].join("\n")

/** The text-only prompt of the reasoning-stage correctness pre-check (REFERENCE: the reference's bytes). */
export const correctnessPrompt = (input: CorrectnessPromptInput, wording: Wording = "CORRECTED"): string =>
  wording === "REFERENCE"
    ? referenceCorrectnessPrompt(input)
    : `${CORRECTNESS_INSTRUCTIONS}\n\nGiven Information: ${input.hint ?? ""}\n\nReasoning Process: ${input.reasoning}`

/** The pre-check's chat messages: text only (the reference shows no image here). */
export const correctnessMessages = (
  input: CorrectnessPromptInput,
  wording: Wording = "CORRECTED",
): ReadonlyArray<ChatMessage> => [userTurn({ question: correctnessPrompt(input, wording) })]

/** The reference's rule: any occurrence of "incorrect" means incorrect; everything else counts as correct. */
export const parseCorrectness = (raw: string): { readonly correct: boolean } => ({
  correct: !raw.includes("incorrect"),
})
