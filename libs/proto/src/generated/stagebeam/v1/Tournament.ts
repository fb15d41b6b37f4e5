// Original file: proto/stagebeam/v1/reasoner.proto

export const Tournament = {
  /**
   * Knockout: matches of a round run in parallel, ceil(log2 N) rounds.
   */
  TOURNAMENT_UNSPECIFIED: 'TOURNAMENT_UNSPECIFIED',
  TOURNAMENT_KNOCKOUT: 'TOURNAMENT_KNOCKOUT',
  /**
   * The reference's pool: pick two at random, put the winner back, N-1 deep.
   */
  TOURNAMENT_SEQUENTIAL: 'TOURNAMENT_SEQUENTIAL',
} as const;

export type Tournament =
  /**
   * Knockout: matches of a round run in parallel, ceil(log2 N) rounds.
   */
  | 'TOURNAMENT_UNSPECIFIED'
  | 0
  | 'TOURNAMENT_KNOCKOUT'
  | 1
  /**
   * The reference's pool: pick two at random, put the winner back, N-1 deep.
   */
  | 'TOURNAMENT_SEQUENTIAL'
  | 2

export type Tournament__Output = typeof Tournament[keyof typeof Tournament]
