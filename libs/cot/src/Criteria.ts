import type { StepKind } from "./Stage.ts"

export interface Criterion {
  /** Opens the prompt: what the judge decides. */
  readonly task: string
  /** Repeated just before the output format, to recall the criterion (empty for ALL and SENTENCE, as in the reference). */
  readonly recall: string
}

// The criteria are the reference's wording (LLaVA-CoT inference/demo/simple_inference.py, function judge).
export const CRITERIA: Record<StepKind, Criterion> = {
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

/** The stage-specific criterion text (the first paragraph of the judge prompt). */
export const judgeCriterion = (kind: StepKind): string => CRITERIA[kind].task
