// Original file: proto/stagebeam/v1/reasoner.proto


export interface StepChosen {
  'step'?: (number);
  'kind'?: (string);
  /**
   * The chosen candidate; -1 when the text was fixed rather than sampled.
   */
  'index'?: (number);
  'text'?: (string);
  /**
   * "TOURNAMENT", "ONLY_CANDIDATE", "CUT_SHORT", "FIXED" (the caption of a text-only question), "UNJUDGED"
   * (the one sample that completed an answer cut short by the deadline or the budget) or "SCORE" (the highest score of
   * a pointwise judge; SWIRES marks every caption it keeps).
   */
  'by'?: (string);
}

export interface StepChosen__Output {
  'step': (number);
  'kind': (string);
  /**
   * The chosen candidate; -1 when the text was fixed rather than sampled.
   */
  'index': (number);
  'text': (string);
  /**
   * "TOURNAMENT", "ONLY_CANDIDATE", "CUT_SHORT", "FIXED" (the caption of a text-only question), "UNJUDGED"
   * (the one sample that completed an answer cut short by the deadline or the budget) or "SCORE" (the highest score of
   * a pointwise judge; SWIRES marks every caption it keeps).
   */
  'by': (string);
}
