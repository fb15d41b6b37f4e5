// Original file: proto/stagebeam/v1/reasoner.proto

/**
 * Candidates without their stage's tags (cut off by length, ...).
 */
export const Malformed = {
  /**
   * The preset's: DROP for DEFAULT, KEEP for REFERENCE.
   */
  MALFORMED_UNSPECIFIED: 'MALFORMED_UNSPECIFIED',
  /**
   * Dropped; a stage with no valid candidate is sampled once more.
   */
  MALFORMED_DROP: 'MALFORMED_DROP',
  /**
   * Kept in the tournament as the reference keeps them: one the judge cannot read is left out of the prompt and the
   * other is shown as "Response 1".
   */
  MALFORMED_KEEP: 'MALFORMED_KEEP',
} as const;

/**
 * Candidates without their stage's tags (cut off by length, ...).
 */
export type Malformed =
  /**
   * The preset's: DROP for DEFAULT, KEEP for REFERENCE.
   */
  | 'MALFORMED_UNSPECIFIED'
  | 0
  /**
   * Dropped; a stage with no valid candidate is sampled once more.
   */
  | 'MALFORMED_DROP'
  | 1
  /**
   * Kept in the tournament as the reference keeps them: one the judge cannot read is left out of the prompt and the
   * other is shown as "Response 1".
   */
  | 'MALFORMED_KEEP'
  | 2

/**
 * Candidates without their stage's tags (cut off by length, ...).
 */
export type Malformed__Output = typeof Malformed[keyof typeof Malformed]
