import { type ChatMessage, userTurn } from "./Messages.ts"
import type { StepKind } from "./Stage.ts"

/**
 * What a pointwise scorer is asked, as LLaVA-CoT's swires.py asks its reward model (xcomposer_score / xcomposer_judge):
 * the question with a stage-specific instruction appended, and the response as the assistant's turn. A conclusion (and
 * a whole answer) is scored with the plain question. The code writes the sentence instruction as "\Please"
 * (a stray backslash); here it is a line break like the others.
 */
export const SCORE_INSTRUCTIONS: Readonly<Record<StepKind, string>> = {
  SUMMARY: "\nPlease provide a summary of this image based on the question and the image itself.",
  CAPTION: "\nPlease provide a detailed description of this image based on the question and the image itself.",
  REASONING:
    "\nPlease reason based on the question and the image, providing a detailed reasoning process to solve the problem.",
  CONCLUSION: "",
  ALL: "",
  SENTENCE: "\nPlease provide a next sentence for the answer to the question.",
}

/** The user text a scorer sees for a response of this kind. */
export const scoreQuery = (kind: StepKind, question: string): string => question + SCORE_INSTRUCTIONS[kind]

/** A reward model's conversation: [image, question + instruction] as the user, the response as the assistant. */
export const scoreMessages = (
  kind: StepKind,
  input: { readonly question: string; readonly response: string; readonly imageUrl?: string | undefined },
): ReadonlyArray<ChatMessage> => [
  userTurn({ question: scoreQuery(kind, input.question), imageUrl: input.imageUrl }),
  { role: "assistant", content: input.response },
]

/** The nine answers of a rating, worst to best. */
export const RATING_LABELS = ["1", "2", "3", "4", "5", "6", "7", "8", "9"] as const

const RATED: Readonly<Record<StepKind, string>> = {
  SUMMARY: "outlines how to solve the question (the main approach, not the detailed reasoning)",
  CAPTION: "describes the question-relevant content of the image, thoroughly and without errors",
  REASONING: "reasons toward the answer of the question, with fewer errors",
  CONCLUSION: "concludes the answer to the question, consistently with its reasoning and never refusing",
  ALL: "answers the question",
  SENTENCE: "continues the answer to the question as its next sentence",
}

/** A chat model asked for a score: one digit from 1 to 9, whose expectation over its logprobs is the score. */
export const ratingPrompt = (kind: StepKind, input: { readonly question: string; readonly response: string }) =>
  `Now you act as a judge, helping me rate how well the text I provide ${RATED[kind]}.\n\n` +
  `Question: ${input.question}\nResponse: ${input.response}\n\n` +
  "Output format: a single digit from 1 (poor) to 9 (excellent), and nothing else."

export const ratingMessages = (
  kind: StepKind,
  input: { readonly question: string; readonly response: string; readonly imageUrl?: string | undefined },
): ReadonlyArray<ChatMessage> => [userTurn({ question: ratingPrompt(kind, input), imageUrl: input.imageUrl })]
