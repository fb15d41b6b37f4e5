// Original file: proto/stagebeam/v1/reasoner.proto


/**
 * What a judge's pool can do, as far as judging goes.
 */
export interface JudgeCapabilities {
  /**
   * "structured_outputs", "guided_choice" or "none" (then verdicts are free text).
   */
  'constrainedChoice'?: (string);
  'logprobs'?: (boolean);
  'images'?: (boolean);
  /**
   * vLLM's /pooling and /score.
   */
  'pooling'?: (boolean);
  'score'?: (boolean);
  /**
   * Request fields a server of its pool was seen to accept and ignore (HTTP 200, output unaffected), e.g.
   * "structured_outputs" on vLLM 0.10.2: what the judge cannot rely on there.
   */
  'ignoredFields'?: (string)[];
}

/**
 * What a judge's pool can do, as far as judging goes.
 */
export interface JudgeCapabilities__Output {
  /**
   * "structured_outputs", "guided_choice" or "none" (then verdicts are free text).
   */
  'constrainedChoice': (string);
  'logprobs': (boolean);
  'images': (boolean);
  /**
   * vLLM's /pooling and /score.
   */
  'pooling': (boolean);
  'score': (boolean);
  /**
   * Request fields a server of its pool was seen to accept and ignore (HTTP 200, output unaffected), e.g.
   * "structured_outputs" on vLLM 0.10.2: what the judge cannot rely on there.
   */
  'ignoredFields': (string)[];
}
