// Original file: proto/stagebeam/v1/reasoner.proto


export interface MatchJudged {
  'stage'?: (string);
  'round'?: (number);
  'first'?: (number);
  'second'?: (number);
  'winner'?: (number);
  'verdict'?: (string);
  'server'?: (string);
  /**
   * How the match was decided: "judge", "invalid" (one side was invalid), "reasoning_check".
   */
  'decidedBy'?: (string);
}

export interface MatchJudged__Output {
  'stage': (string);
  'round': (number);
  'first': (number);
  'second': (number);
  'winner': (number);
  'verdict': (string);
  'server': (string);
  /**
   * How the match was decided: "judge", "invalid" (one side was invalid), "reasoning_check".
   */
  'decidedBy': (string);
}
