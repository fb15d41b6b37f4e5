// Original file: proto/stagebeam/v1/reasoner.proto

/**
 * A verdict that names neither response (or, constrained, whose two labels' logprobs tie).
 */
export const UnclearVerdict = {
  /**
   * The preset's: ASK_SWAPPED_THEN_COIN for DEFAULT, SECOND for REFERENCE.
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
  /**
   * A seeded coin at once, no second call.
   */
  UNCLEAR_VERDICT_COIN: 'UNCLEAR_VERDICT_COIN',
  /**
   * Asked once more with the two swapped; if that is unclear too, a seeded coin (never silently the second).
   */
  UNCLEAR_VERDICT_ASK_SWAPPED_THEN_COIN: 'UNCLEAR_VERDICT_ASK_SWAPPED_THEN_COIN',
} as const;

/**
 * A verdict that names neither response (or, constrained, whose two labels' logprobs tie).
 */
export type UnclearVerdict =
  /**
   * The preset's: ASK_SWAPPED_THEN_COIN for DEFAULT, SECOND for REFERENCE.
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
   * A seeded coin at once, no second call.
   */
  | 'UNCLEAR_VERDICT_COIN'
  | 3
  /**
   * Asked once more with the two swapped; if that is unclear too, a seeded coin (never silently the second).
   */
  | 'UNCLEAR_VERDICT_ASK_SWAPPED_THEN_COIN'
  | 4

/**
 * A verdict that names neither response (or, constrained, whose two labels' logprobs tie).
 */
export type UnclearVerdict__Output = typeof UnclearVerdict[keyof typeof UnclearVerdict]
