// Original file: proto/stagebeam/v1/reasoner.proto


/**
 * SWIRES's knobs; 0 or unset = its default.
 */
export interface SwiresOptions {
  /**
   * Captions kept per pass (2).
   */
  'keep'?: (number);
  /**
   * Reasonings sampled continuing each kept caption (2).
   */
  'reasoningsPerCaption'?: (number);
  /**
   * Best reasonings of the pool that each get a conclusion (3).
   */
  'conclusions'?: (number);
  /**
   * Retraces after the first pass (3, the paper's; the code's max_backtrack = 4 allows 4).
   */
  'maxRetraces'?: (number);
  /**
   * A pass is accepted when the pool's second-best reasoning score is above this (-0.77 + 0.2533 * 2.08, the code's,
   * for internlm-xcomposer2d5-7b-reward's scores).
   */
  'cutoff'?: (number | string);
  '_maxRetraces'?: "maxRetraces";
  '_cutoff'?: "cutoff";
}

/**
 * SWIRES's knobs; 0 or unset = its default.
 */
export interface SwiresOptions__Output {
  /**
   * Captions kept per pass (2).
   */
  'keep': (number);
  /**
   * Reasonings sampled continuing each kept caption (2).
   */
  'reasoningsPerCaption': (number);
  /**
   * Best reasonings of the pool that each get a conclusion (3).
   */
  'conclusions': (number);
  /**
   * Retraces after the first pass (3, the paper's; the code's max_backtrack = 4 allows 4).
   */
  'maxRetraces'?: (number);
  /**
   * A pass is accepted when the pool's second-best reasoning score is above this (-0.77 + 0.2533 * 2.08, the code's,
   * for internlm-xcomposer2d5-7b-reward's scores).
   */
  'cutoff'?: (number);
  '_maxRetraces'?: "maxRetraces";
  '_cutoff'?: "cutoff";
}
