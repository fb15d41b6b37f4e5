// Original file: proto/stagebeam/v1/reasoner.proto

import type { Long } from '@grpc/proto-loader';

export interface CandidateGenerated {
  'step'?: (number);
  'kind'?: (string);
  'index'?: (number);
  /**
   * 0 for the first sampling, 1 for the one resample after a step whose candidates were all invalid.
   */
  'attempt'?: (number);
  /**
   * What the model wrote, tags included.
   */
  'text'?: (string);
  'completionTokens'?: (number);
  /**
   * "stop", "length" or "abort".
   */
  'finishReason'?: (string);
  'valid'?: (boolean);
  /**
   * Why an invalid candidate was rejected.
   */
  'problem'?: (string);
  /**
   * Which upstream server produced it.
   */
  'server'?: (string);
  /**
   * Set (index + 1) when it repeats an earlier candidate and is not judged again (duplicates MERGE); 0 otherwise.
   */
  'mergedIntoPlusOne'?: (number);
  'startedAtMs'?: (number | string | Long);
  'endedAtMs'?: (number | string | Long);
  /**
   * True when completion_tokens is an estimate (the server reported no counts).
   */
  'tokensEstimated'?: (boolean);
}

export interface CandidateGenerated__Output {
  'step': (number);
  'kind': (string);
  'index': (number);
  /**
   * 0 for the first sampling, 1 for the one resample after a step whose candidates were all invalid.
   */
  'attempt': (number);
  /**
   * What the model wrote, tags included.
   */
  'text': (string);
  'completionTokens': (number);
  /**
   * "stop", "length" or "abort".
   */
  'finishReason': (string);
  'valid': (boolean);
  /**
   * Why an invalid candidate was rejected.
   */
  'problem': (string);
  /**
   * Which upstream server produced it.
   */
  'server': (string);
  /**
   * Set (index + 1) when it repeats an earlier candidate and is not judged again (duplicates MERGE); 0 otherwise.
   */
  'mergedIntoPlusOne': (number);
  'startedAtMs': (string);
  'endedAtMs': (string);
  /**
   * True when completion_tokens is an estimate (the server reported no counts).
   */
  'tokensEstimated': (boolean);
}
