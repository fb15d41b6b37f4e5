// Original file: proto/stagebeam/v1/reasoner.proto


export interface CutShort {
  /**
   * "BUDGET", "DEADLINE" or "SENTENCE_LIMIT".
   */
  'reason'?: (string);
  'detail'?: (string);
}

export interface CutShort__Output {
  /**
   * "BUDGET", "DEADLINE" or "SENTENCE_LIMIT".
   */
  'reason': (string);
  'detail': (string);
}
