// Original file: proto/stagebeam/v1/reasoner.proto

/**
 * Identical candidates (the same text for the judge).
 */
export const Duplicates = {
  /**
   * The preset's: WEIGHT for both.
   */
  DUPLICATES_UNSPECIFIED: 'DUPLICATES_UNSPECIFIED',
  /**
   * Each copy stays an entrant, as in the reference (text the model wrote twice is likelier to win); a match between
   * two copies is decided by a seeded coin instead of a judge call (the same odds as the reference, fewer calls).
   */
  DUPLICATES_WEIGHT: 'DUPLICATES_WEIGHT',
  /**
   * One entrant per text.
   */
  DUPLICATES_MERGE: 'DUPLICATES_MERGE',
} as const;

/**
 * Identical candidates (the same text for the judge).
 */
export type Duplicates =
  /**
   * The preset's: WEIGHT for both.
   */
  | 'DUPLICATES_UNSPECIFIED'
  | 0
  /**
   * Each copy stays an entrant, as in the reference (text the model wrote twice is likelier to win); a match between
   * two copies is decided by a seeded coin instead of a judge call (the same odds as the reference, fewer calls).
   */
  | 'DUPLICATES_WEIGHT'
  | 1
  /**
   * One entrant per text.
   */
  | 'DUPLICATES_MERGE'
  | 2

/**
 * Identical candidates (the same text for the judge).
 */
export type Duplicates__Output = typeof Duplicates[keyof typeof Duplicates]
