// Original file: proto/stagebeam/v1/reasoner.proto


export interface Candidate {
  'index'?: (number);
  'text'?: (string);
  'completionTokens'?: (number);
  'finishReason'?: (string);
  'valid'?: (boolean);
  /**
   * Which upstream server produced it.
   */
  'server'?: (string);
}

export interface Candidate__Output {
  'index': (number);
  'text': (string);
  'completionTokens': (number);
  'finishReason': (string);
  'valid': (boolean);
  /**
   * Which upstream server produced it.
   */
  'server': (string);
}
