// Original file: proto/stagebeam/v1/reasoner.proto

export const Strategy = {
  /**
   * Stage-level beam search (the paper's method): N candidates per stage, pairwise tournament, keep the winner.
   */
  STRATEGY_UNSPECIFIED: 'STRATEGY_UNSPECIFIED',
  STRATEGY_STAGE_BEAM: 'STRATEGY_STAGE_BEAM',
  /**
   * N whole answers, judged pairwise.
   */
  STRATEGY_BEST_OF_N: 'STRATEGY_BEST_OF_N',
  /**
   * N candidates per sentence.
   */
  STRATEGY_SENTENCE_BEAM: 'STRATEGY_SENTENCE_BEAM',
  /**
   * One sample, no judge.
   */
  STRATEGY_GREEDY: 'STRATEGY_GREEDY',
} as const;

export type Strategy =
  /**
   * Stage-level beam search (the paper's method): N candidates per stage, pairwise tournament, keep the winner.
   */
  | 'STRATEGY_UNSPECIFIED'
  | 0
  | 'STRATEGY_STAGE_BEAM'
  | 1
  /**
   * N whole answers, judged pairwise.
   */
  | 'STRATEGY_BEST_OF_N'
  | 2
  /**
   * N candidates per sentence.
   */
  | 'STRATEGY_SENTENCE_BEAM'
  | 3
  /**
   * One sample, no judge.
   */
  | 'STRATEGY_GREEDY'
  | 4

export type Strategy__Output = typeof Strategy[keyof typeof Strategy]
