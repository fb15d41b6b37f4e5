// Original file: proto/stagebeam/v1/reasoner.proto

/**
 * A verdict that names neither response.
 */
export const UnclearVerdict = {
  /**
   * The preset's: ASK_SWAPPED for DEFAULT, SECOND for REFERENCE.
   */
  UNCLEAR_VERDICT_UNSPECIFIED: 'UNCLEAR_VERDICT_UNSPECIFIED',
  /**
   * Asked once more with the two responses swapped; if that is unclear too, the second.
   */
  UNCLEAR_VERDICT_ASK_SWAPPED: 'UNCLEAR_VERDICT_ASK_SWAPPED',
  /**
   * The second response, as the reference does.
   */
  UNCLEAR_VERDICT_SECOND: 'UNCLEAR_VERDICT_SECOND',
} as const;

/**
 * A verdict that names neither response.
 */
export type UnclearVerdict =
  /**
   * The preset's: ASK_SWAPPED for DEFAULT, SECOND for REFERENCE.
   */
  | 'UNCLEAR_VERDICT_UNSPECIFIED'
  | 0
  /**
   * Asked once more with the two responses swapped; if that is unclear too, the second.
   */
  | 'UNCLEAR_VERDICT_ASK_SWAPPED'
  | 1
  /**
   * The second response, as the reference does.
   */
  | 'UNCLEAR_VERDICT_SECOND'
  | 2

/**
 * A verdict that names neither response.
 */
export type UnclearVerdict__Output = typeof UnclearVerdict[keyof typeof UnclearVerdict]
