// Original file: proto/stagebeam/v1/reasoner.proto

import type { JudgeCapabilities as _stagebeam_v1_JudgeCapabilities, JudgeCapabilities__Output as _stagebeam_v1_JudgeCapabilities__Output } from '../../stagebeam/v1/JudgeCapabilities.ts';

export interface JudgeInfo {
  /**
   * What judge.name picks.
   */
  'name'?: (string);
  /**
   * Its kind as declared: "pairwise", "reward", "cross-encoder", "rating", or one the server registered.
   */
  'kind'?: (string);
  /**
   * The pool whose servers answer its calls, and the model they serve.
   */
  'pool'?: (string);
  'model'?: (string);
  /**
   * "PAIRWISE" (compares two candidates) or "POINTWISE" (scores each; STRATEGY_SWIRES needs one).
   */
  'judging'?: (string);
  /**
   * Pairwise: "choice" or "free_text", as declared.
   */
  'verdicts'?: (string);
  'isDefault'?: (boolean);
  'capabilities'?: (_stagebeam_v1_JudgeCapabilities | null);
}

export interface JudgeInfo__Output {
  /**
   * What judge.name picks.
   */
  'name': (string);
  /**
   * Its kind as declared: "pairwise", "reward", "cross-encoder", "rating", or one the server registered.
   */
  'kind': (string);
  /**
   * The pool whose servers answer its calls, and the model they serve.
   */
  'pool': (string);
  'model': (string);
  /**
   * "PAIRWISE" (compares two candidates) or "POINTWISE" (scores each; STRATEGY_SWIRES needs one).
   */
  'judging': (string);
  /**
   * Pairwise: "choice" or "free_text", as declared.
   */
  'verdicts': (string);
  'isDefault': (boolean);
  'capabilities': (_stagebeam_v1_JudgeCapabilities__Output | null);
}
