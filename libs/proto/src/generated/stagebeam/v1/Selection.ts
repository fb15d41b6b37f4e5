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
   * "ASK_SWAPPED_THEN_COIN", "ASK_SWAPPED", "COIN" or "SECOND".
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
   * "duplicates", "reasoning_check_mode", "unclear_verdict", "malformed", "prompt_wording", "match_order", "verdict",
   * "votes"), and "judge.both_orders" when the judge judged both orders; then how the run itself differs:
   * "stragglers" (matches started as samples finished), "judge.name" (not the generator judging itself pairwise),
   * "sampling" (not 0.6 / 0.9 / 2048), "judge.sampling" (the judge kept those while the request changed them),
   * "images.prescale" (the gateway scaled the image). Empty: the reference's run, exactly.
   */
  'deviations'?: (string)[];
  /**
   * "AS_PAIRED" or "SEEDED".
   */
  'matchOrder'?: (string);
  /**
   * "FREE_TEXT" or "CHOICE": CHOICE only where the judge's pool can constrain its answers.
   */
  'verdict'?: (string);
  'votes'?: (number);
  'bothOrders'?: (boolean);
  /**
   * The judge that judged (its declared name), and whether it compares pairs or scores ("PAIRWISE", "POINTWISE").
   */
  'judge'?: (string);
  'judging'?: (string);
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
   * "ASK_SWAPPED_THEN_COIN", "ASK_SWAPPED", "COIN" or "SECOND".
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
   * "duplicates", "reasoning_check_mode", "unclear_verdict", "malformed", "prompt_wording", "match_order", "verdict",
   * "votes"), and "judge.both_orders" when the judge judged both orders; then how the run itself differs:
   * "stragglers" (matches started as samples finished), "judge.name" (not the generator judging itself pairwise),
   * "sampling" (not 0.6 / 0.9 / 2048), "judge.sampling" (the judge kept those while the request changed them),
   * "images.prescale" (the gateway scaled the image). Empty: the reference's run, exactly.
   */
  'deviations': (string)[];
  /**
   * "AS_PAIRED" or "SEEDED".
   */
  'matchOrder': (string);
  /**
   * "FREE_TEXT" or "CHOICE": CHOICE only where the judge's pool can constrain its answers.
   */
  'verdict': (string);
  'votes': (number);
  'bothOrders': (boolean);
  /**
   * The judge that judged (its declared name), and whether it compares pairs or scores ("PAIRWISE", "POINTWISE").
   */
  'judge': (string);
  'judging': (string);
}
