// Original file: proto/stagebeam/v1/reasoner.proto

/**
 * The judge's and the pre-check's prompt strings.
 */
export const PromptWording = {
  /**
   * The preset's: CORRECTED for DEFAULT, REFERENCE for REFERENCE.
   */
  PROMPT_WORDING_UNSPECIFIED: 'PROMPT_WORDING_UNSPECIFIED',
  /**
   * "Response 1/2", the pre-check without the source indentation, caption and reasoning apart in the conclusion's
   * hint, the whole sentence judged.
   */
  PROMPT_WORDING_CORRECTED: 'PROMPT_WORDING_CORRECTED',
  /**
   * The reference's bytes: "Repsonse", "invovles", its spacing, the hint concatenated, split(".")[-2] for sentences.
   */
  PROMPT_WORDING_REFERENCE: 'PROMPT_WORDING_REFERENCE',
} as const;

/**
 * The judge's and the pre-check's prompt strings.
 */
export type PromptWording =
  /**
   * The preset's: CORRECTED for DEFAULT, REFERENCE for REFERENCE.
   */
  | 'PROMPT_WORDING_UNSPECIFIED'
  | 0
  /**
   * "Response 1/2", the pre-check without the source indentation, caption and reasoning apart in the conclusion's
   * hint, the whole sentence judged.
   */
  | 'PROMPT_WORDING_CORRECTED'
  | 1
  /**
   * The reference's bytes: "Repsonse", "invovles", its spacing, the hint concatenated, split(".")[-2] for sentences.
   */
  | 'PROMPT_WORDING_REFERENCE'
  | 2

/**
 * The judge's and the pre-check's prompt strings.
 */
export type PromptWording__Output = typeof PromptWording[keyof typeof PromptWording]
