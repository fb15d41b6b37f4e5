// Original file: proto/stagebeam/v1/reasoner.proto

/**
 * Whether STAGE_BEAM starts the next stage for both finalists while a stage's deciding match runs (the loser's
 * call is aborted when the verdict lands).
 */
export const Speculation = {
  SPECULATION_UNSPECIFIED: 'SPECULATION_UNSPECIFIED',
  SPECULATION_OFF: 'SPECULATION_OFF',
  /**
   * Only while the generator's servers have spare sequences for the call (never at saturation).
   */
  SPECULATION_ADAPTIVE: 'SPECULATION_ADAPTIVE',
  /**
   * Whatever the servers' load.
   */
  SPECULATION_ALWAYS: 'SPECULATION_ALWAYS',
} as const;

/**
 * Whether STAGE_BEAM starts the next stage for both finalists while a stage's deciding match runs (the loser's
 * call is aborted when the verdict lands).
 */
export type Speculation =
  | 'SPECULATION_UNSPECIFIED'
  | 0
  | 'SPECULATION_OFF'
  | 1
  /**
   * Only while the generator's servers have spare sequences for the call (never at saturation).
   */
  | 'SPECULATION_ADAPTIVE'
  | 2
  /**
   * Whatever the servers' load.
   */
  | 'SPECULATION_ALWAYS'
  | 3

/**
 * Whether STAGE_BEAM starts the next stage for both finalists while a stage's deciding match runs (the loser's
 * call is aborted when the verdict lands).
 */
export type Speculation__Output = typeof Speculation[keyof typeof Speculation]
