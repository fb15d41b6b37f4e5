// Original file: proto/stagebeam/v1/reasoner.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A pointwise judge's score of one candidate; a step with a pointwise judge keeps the highest (StepChosen by "SCORE").
 */
export interface CandidateScored {
  'step'?: (number);
  'kind'?: (string);
  'index'?: (number);
  'score'?: (number | string);
  'server'?: (string);
  'startedAtMs'?: (number | string | Long);
  'endedAtMs'?: (number | string | Long);
}

/**
 * A pointwise judge's score of one candidate; a step with a pointwise judge keeps the highest (StepChosen by "SCORE").
 */
export interface CandidateScored__Output {
  'step': (number);
  'kind': (string);
  'index': (number);
  'score': (number);
  'server': (string);
  'startedAtMs': (string);
  'endedAtMs': (string);
}
