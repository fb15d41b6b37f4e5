// Original file: proto/stagebeam/v1/reasoner.proto

/**
 * The REASONING stage's text-only correctness pre-check.
 */
export const ReasoningCheck = {
  /**
   * The preset's: OFF for DEFAULT (ONCE when reasoning_check is set), PER_MATCH for REFERENCE.
   */
  REASONING_CHECK_UNSPECIFIED: 'REASONING_CHECK_UNSPECIFIED',
  REASONING_CHECK_OFF: 'REASONING_CHECK_OFF',
  /**
   * Each distinct reasoning checked once, in parallel; a correct one beats an incorrect one without a judge call,
   * the judge decides when both checks agree.
   */
  REASONING_CHECK_ONCE: 'REASONING_CHECK_ONCE',
  /**
   * The reference's rule, in every match: check the first; "incorrect" -> the second wins unchecked; else check the
   * second; "incorrect" -> the first wins; else the judge decides.
   */
  REASONING_CHECK_PER_MATCH: 'REASONING_CHECK_PER_MATCH',
} as const;

/**
 * The REASONING stage's text-only correctness pre-check.
 */
export type ReasoningCheck =
  /**
   * The preset's: OFF for DEFAULT (ONCE when reasoning_check is set), PER_MATCH for REFERENCE.
   */
  | 'REASONING_CHECK_UNSPECIFIED'
  | 0
  | 'REASONING_CHECK_OFF'
  | 1
  /**
   * Each distinct reasoning checked once, in parallel; a correct one beats an incorrect one without a judge call,
   * the judge decides when both checks agree.
   */
  | 'REASONING_CHECK_ONCE'
  | 2
  /**
   * The reference's rule, in every match: check the first; "incorrect" -> the second wins unchecked; else check the
   * second; "incorrect" -> the first wins; else the judge decides.
   */
  | 'REASONING_CHECK_PER_MATCH'
  | 3

/**
 * The REASONING stage's text-only correctness pre-check.
 */
export type ReasoningCheck__Output = typeof ReasoningCheck[keyof typeof ReasoningCheck]
