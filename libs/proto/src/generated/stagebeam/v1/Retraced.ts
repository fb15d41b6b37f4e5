// Original file: proto/stagebeam/v1/reasoner.proto


/**
 * SWIRES went back to the captions: the pool's second-best reasoning score was not above the cutoff.
 */
export interface Retraced {
  /**
   * The pass that failed (0 = the first).
   */
  'pass'?: (number);
  'secondBest'?: (number | string);
  'cutoff'?: (number | string);
}

/**
 * SWIRES went back to the captions: the pool's second-best reasoning score was not above the cutoff.
 */
export interface Retraced__Output {
  /**
   * The pass that failed (0 = the first).
   */
  'pass': (number);
  'secondBest': (number);
  'cutoff': (number);
}
