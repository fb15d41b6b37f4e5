// Original file: proto/stagebeam/v1/reasoner.proto

/**
 * The order a pairwise judge sees each match in.
 */
export const MatchOrder = {
  /**
   * The preset's: SEEDED for DEFAULT, AS_PAIRED for REFERENCE.
   */
  MATCH_ORDER_UNSPECIFIED: 'MATCH_ORDER_UNSPECIFIED',
  /**
   * The tournament's order (the reference: the first drawn is shown first).
   */
  MATCH_ORDER_AS_PAIRED: 'MATCH_ORDER_AS_PAIRED',
  /**
   * Each match's order drawn from the seed, so a position bias cannot follow the bracket.
   */
  MATCH_ORDER_SEEDED: 'MATCH_ORDER_SEEDED',
} as const;

/**
 * The order a pairwise judge sees each match in.
 */
export type MatchOrder =
  /**
   * The preset's: SEEDED for DEFAULT, AS_PAIRED for REFERENCE.
   */
  | 'MATCH_ORDER_UNSPECIFIED'
  | 0
  /**
   * The tournament's order (the reference: the first drawn is shown first).
   */
  | 'MATCH_ORDER_AS_PAIRED'
  | 1
  /**
   * Each match's order drawn from the seed, so a position bias cannot follow the bracket.
   */
  | 'MATCH_ORDER_SEEDED'
  | 2

/**
 * The order a pairwise judge sees each match in.
 */
export type MatchOrder__Output = typeof MatchOrder[keyof typeof MatchOrder]
