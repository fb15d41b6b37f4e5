// Original file: proto/stagebeam/v1/reasoner.proto


/**
 * The selection rules a search ran with: the preset, then every rule the request set.
 */
export interface Selection {
  /**
   * "DEFAULT" or "REFERENCE".
   */
  'preset'?: (string);
  /**
   * "KNOCKOUT" or "SEQUENTIAL".
   */
  'tournament'?: (string);
  /**
   * "WEIGHT" or "MERGE".
   */
  'duplicates'?: (string);
  /**
   * "OFF", "ONCE" or "PER_MATCH".
   */
  'reasoningCheck'?: (string);
  /**
   * "ASK_SWAPPED" or "SECOND".
   */
  'unclearVerdict'?: (string);
  /**
   * "DROP" or "KEEP".
   */
  'malformed'?: (string);
  /**
   * "CORRECTED" or "REFERENCE".
   */
  'promptWording'?: (string);
  /**
   * The rules above whose value is not the reference's, by their SearchOptions field names ("tournament",
   * "duplicates", "reasoning_check_mode", "unclear_verdict", "malformed", "prompt_wording"), and "judge.both_orders"
   * when the judge judged both orders. Empty: the reference's selection, exactly.
   */
  'deviations'?: (string)[];
}

/**
 * The selection rules a search ran with: the preset, then every rule the request set.
 */
export interface Selection__Output {
  /**
   * "DEFAULT" or "REFERENCE".
   */
  'preset': (string);
  /**
   * "KNOCKOUT" or "SEQUENTIAL".
   */
  'tournament': (string);
  /**
   * "WEIGHT" or "MERGE".
   */
  'duplicates': (string);
  /**
   * "OFF", "ONCE" or "PER_MATCH".
   */
  'reasoningCheck': (string);
  /**
   * "ASK_SWAPPED" or "SECOND".
   */
  'unclearVerdict': (string);
  /**
   * "DROP" or "KEEP".
   */
  'malformed': (string);
  /**
   * "CORRECTED" or "REFERENCE".
   */
  'promptWording': (string);
  /**
   * The rules above whose value is not the reference's, by their SearchOptions field names ("tournament",
   * "duplicates", "reasoning_check_mode", "unclear_verdict", "malformed", "prompt_wording"), and "judge.both_orders"
   * when the judge judged both orders. Empty: the reference's selection, exactly.
   */
  'deviations': (string)[];
}
