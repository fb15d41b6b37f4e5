// Original file: proto/stagebeam/v1/reasoner.proto

export const JudgeKind = {
  /**
   * The server's configured default judge.
   */
  JUDGE_UNSPECIFIED: 'JUDGE_UNSPECIFIED',
  /**
   * The generator model judges its own candidates (the paper's setup).
   */
  JUDGE_SELF: 'JUDGE_SELF',
  /**
   * A separately configured judge model or server pool.
   */
  JUDGE_MODEL: 'JUDGE_MODEL',
} as const;

export type JudgeKind =
  /**
   * The server's configured default judge.
   */
  | 'JUDGE_UNSPECIFIED'
  | 0
  /**
   * The generator model judges its own candidates (the paper's setup).
   */
  | 'JUDGE_SELF'
  | 1
  /**
   * A separately configured judge model or server pool.
   */
  | 'JUDGE_MODEL'
  | 2

export type JudgeKind__Output = typeof JudgeKind[keyof typeof JudgeKind]
