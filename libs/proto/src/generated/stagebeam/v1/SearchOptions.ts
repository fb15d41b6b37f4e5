// Original file: proto/stagebeam/v1/reasoner.proto

import type { Strategy as _stagebeam_v1_Strategy, Strategy__Output as _stagebeam_v1_Strategy__Output } from '../../stagebeam/v1/Strategy.ts';
import type { Tournament as _stagebeam_v1_Tournament, Tournament__Output as _stagebeam_v1_Tournament__Output } from '../../stagebeam/v1/Tournament.ts';
import type { Sampling as _stagebeam_v1_Sampling, Sampling__Output as _stagebeam_v1_Sampling__Output } from '../../stagebeam/v1/Sampling.ts';
import type { Long } from '@grpc/proto-loader';

export interface SearchOptions {
  'strategy'?: (_stagebeam_v1_Strategy);
  /**
   * 0 = default (4).
   */
  'candidatesPerStage'?: (number);
  'tournament'?: (_stagebeam_v1_Tournament);
  /**
   * 0 = a random seed (reported back in the response); any other value makes the search reproducible.
   * At most 4294967295 (vLLM seeds are 32-bit).
   */
  'seed'?: (number | string | Long);
  'sampling'?: (_stagebeam_v1_Sampling | null);
  /**
   * The reference's text-only correctness check of each reasoning candidate before its match.
   */
  'reasoningCheck'?: (boolean);
  /**
   * 0 = no limit: completion tokens this request may spend across all its calls (generation, judge, checks).
   * Prompt tokens are not counted: the image dominates them and the N samples of a call share one prefill.
   * Checked before each step from the costliest call so far, so the last step may overrun it a little.
   */
  'tokenBudget'?: (number | string | Long);
  /**
   * SENTENCE_BEAM only: the most sentences searched before the rest of the answer is completed unjudged (0 = 64).
   */
  'maxSentences'?: (number);
}

export interface SearchOptions__Output {
  'strategy': (_stagebeam_v1_Strategy__Output);
  /**
   * 0 = default (4).
   */
  'candidatesPerStage': (number);
  'tournament': (_stagebeam_v1_Tournament__Output);
  /**
   * 0 = a random seed (reported back in the response); any other value makes the search reproducible.
   * At most 4294967295 (vLLM seeds are 32-bit).
   */
  'seed': (string);
  'sampling': (_stagebeam_v1_Sampling__Output | null);
  /**
   * The reference's text-only correctness check of each reasoning candidate before its match.
   */
  'reasoningCheck': (boolean);
  /**
   * 0 = no limit: completion tokens this request may spend across all its calls (generation, judge, checks).
   * Prompt tokens are not counted: the image dominates them and the N samples of a call share one prefill.
   * Checked before each step from the costliest call so far, so the last step may overrun it a little.
   */
  'tokenBudget': (string);
  /**
   * SENTENCE_BEAM only: the most sentences searched before the rest of the answer is completed unjudged (0 = 64).
   */
  'maxSentences': (number);
}
