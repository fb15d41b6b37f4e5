// Original file: proto/stagebeam/v1/reasoner.proto

/**
 * How a pairwise judge answers.
 */
export const VerdictMode = {
  /**
   * The preset's: CHOICE for DEFAULT, FREE_TEXT for REFERENCE.
   */
  VERDICT_MODE_UNSPECIFIED: 'VERDICT_MODE_UNSPECIFIED',
  /**
   * The reference's sentence "Since [reason], I choose response [1/2]."
   */
  VERDICT_MODE_FREE_TEXT: 'VERDICT_MODE_FREE_TEXT',
  /**
   * Constrained to the labels "1"/"2" (guided_choice or structured_outputs, as the pool takes), a few tokens, with
   * logprobs: the label with the higher logprob wins, the difference is the verdict's margin. A judge pool without a
   * choice field (or a judge declared verdicts: free_text) answers FREE_TEXT.
   */
  VERDICT_MODE_CHOICE: 'VERDICT_MODE_CHOICE',
} as const;

/**
 * How a pairwise judge answers.
 */
export type VerdictMode =
  /**
   * The preset's: CHOICE for DEFAULT, FREE_TEXT for REFERENCE.
   */
  | 'VERDICT_MODE_UNSPECIFIED'
  | 0
  /**
   * The reference's sentence "Since [reason], I choose response [1/2]."
   */
  | 'VERDICT_MODE_FREE_TEXT'
  | 1
  /**
   * Constrained to the labels "1"/"2" (guided_choice or structured_outputs, as the pool takes), a few tokens, with
   * logprobs: the label with the higher logprob wins, the difference is the verdict's margin. A judge pool without a
   * choice field (or a judge declared verdicts: free_text) answers FREE_TEXT.
   */
  | 'VERDICT_MODE_CHOICE'
  | 2

/**
 * How a pairwise judge answers.
 */
export type VerdictMode__Output = typeof VerdictMode[keyof typeof VerdictMode]
