import { type ChatMessage, userTurn } from "./Messages.ts"
import type { StepKind } from "./Stage.ts"

interface Criterion {
  /** Opens the prompt: what the judge decides. */
  readonly task: string
  /** Repeated just before the output format, to recall the criterion (empty for ALL and SENTENCE, as in the reference). */
  readonly recall: string
}

// The criteria are the reference's wording (LLaVA-CoT inference/demo/simple_inference.py, function judge).
const CRITERIA: Record<StepKind, Criterion> = {
  ALL: {
    task: "Now you act as a judge, helping me determine which of the two texts I provide better answers the question.",
    recall: "",
  },
  SENTENCE: {
    task: "Now you act as a judge, helping me determine which of the two texts I provide is a better next sentence for the answer to the question.",
    recall: "",
  },
  SUMMARY: {
    task: "Now you act as a judge, helping me determine which of the two texts I provide better provides a summary of what it should do to solve the question. The summary should focus on outlining the main approach instead of stating specific analytical reasoning or math formula.",
    recall:
      "Please note that a better summary should focus on outlining the main approach instead of stating specific analytical reasoning or math formula.",
  },
  CAPTION: {
    task: "Now you act as a judge, helping me determine which of the two texts I provide better summarizes the information in the image related to the question, and has fewer errors. It is essential that the captions are as thorough as possible while remaining accurate, capturing as many details as possible rather than providing only general commentary.",
    recall:
      "Please note that a better caption should be as thorough as possible while remaining accurate, capturing as many details as possible rather than providing only general commentary.",
  },
  REASONING: {
    task: "Now you act as a judge, helping me determine which of the two texts I provide better explains the reasoning process to solve the question, and has fewer errors. Begin by thoroughly reviewing the question, followed by an in-depth examination of each answer individually, noting any differences. Subsequently, analyze these differences to determine which response demonstrates stronger reasoning and provide a clear conclusion.",
    recall:
      "Begin by thoroughly reviewing the question, followed by an in-depth examination of each answer individually, noting any differences. Subsequently, analyze these differences to determine which response demonstrates stronger reasoning and provide a clear conclusion.",
  },
  CONCLUSION: {
    task: "Now you act as a judge, helping me determine which of the two texts I provide offers a more effective conclusion to the question. The conclusion should align with the reasoning presented in the hint. The conclusion should never refuse to answer the question.",
    recall:
      "Please note that a better conclusion should align with the reasoning presented in the hint. The conclusion should never refuse to answer the question.",
  },
}

/** The verdict format the judge is asked for. */
export const JUDGE_OUTPUT_FORMAT = 'Output format: "Since [reason], I choose response [1/2]."'

const FORMAT_INSTRUCTION =
  "Please strictly follow the following format requirements when outputting, and don’t have any other unnecessary words."

export interface JudgePromptInput {
  readonly question: string
  /** Context for the judge: the chosen caption for REASONING, caption + reasoning for CONCLUSION, the answer so far for SENTENCE. */
  readonly hint?: string | undefined
  /** The text shown as "Response 1". */
  readonly first: string
  /** The text shown as "Response 2". */
  readonly second: string
}

/** The stage-specific criterion text (the first paragraph of the judge prompt). */
export const judgeCriterion = (kind: StepKind): string => CRITERIA[kind].task

/**
 * The text of the pairwise judge prompt, laid out as the reference lays it out.
 * The reference labels the texts "Repsonse 1/2" (a typo); we spell "Response", which is also the word the
 * verdict format uses.
 */
export const judgePrompt = (kind: StepKind, input: JudgePromptInput): string => {
  const criterion = CRITERIA[kind]
  const hint = input.hint !== undefined && input.hint.length > 0 ? `\n\nHint about the Question: ${input.hint}` : ""
  const recall = criterion.recall.length > 0 ? `${criterion.recall} ` : ""
  return (
    `${criterion.task}\n\nQuestion: ${input.question}${hint}` +
    `\nResponse 1: ${input.first}\nResponse 2: ${input.second}` +
    `\n\n${recall}${FORMAT_INSTRUCTION}\n\n${JUDGE_OUTPUT_FORMAT}`
  )
}

/** The judge's chat messages: one user turn, the image first (the judge sees the image), then the prompt. */
export const judgeMessages = (
  kind: StepKind,
  input: JudgePromptInput & { readonly imageUrl?: string | undefined },
): ReadonlyArray<ChatMessage> => [userTurn({ question: judgePrompt(kind, input), imageUrl: input.imageUrl })]

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

/** The text-only prompt of the reasoning-stage correctness pre-check. */
export const correctnessPrompt = (input: CorrectnessPromptInput): string =>
  `${CORRECTNESS_INSTRUCTIONS}\n\nGiven Information: ${input.hint ?? ""}\n\nReasoning Process: ${input.reasoning}`

/** The pre-check's chat messages: text only (the reference shows no image here). */
export const correctnessMessages = (input: CorrectnessPromptInput): ReadonlyArray<ChatMessage> => [
  userTurn({ question: correctnessPrompt(input) }),
]

/** The reference's rule: any occurrence of "incorrect" means incorrect; everything else counts as correct. */
export const parseCorrectness = (raw: string): { readonly correct: boolean } => ({
  correct: !raw.includes("incorrect"),
})
