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
  /**
   * The authors' later stage-wise retracing search (inference/VLMEvalKit/swires.py): one summary; captions scored
   * pointwise, the best kept; reasonings continuing them scored into one pool; back to the captions while the pool's
   * second-best score is low (at most search.swires.max_retraces times); one conclusion per best reasoning, the
   * best-scored whole answer wins. Needs a pointwise judge (a reward model). candidates_per_stage = captions per pass.
   */
  STRATEGY_SWIRES: 'STRATEGY_SWIRES',
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
  /**
   * The authors' later stage-wise retracing search (inference/VLMEvalKit/swires.py): one summary; captions scored
   * pointwise, the best kept; reasonings continuing them scored into one pool; back to the captions while the pool's
   * second-best score is low (at most search.swires.max_retraces times); one conclusion per best reasoning, the
   * best-scored whole answer wins. Needs a pointwise judge (a reward model). candidates_per_stage = captions per pass.
   */
  | 'STRATEGY_SWIRES'
  | 5

export type Strategy__Output = typeof Strategy[keyof typeof Strategy]
