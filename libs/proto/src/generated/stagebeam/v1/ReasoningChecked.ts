// Original file: proto/stagebeam/v1/reasoner.proto


export interface ReasoningChecked {
  'step'?: (number);
  'index'?: (number);
  'correct'?: (boolean);
  'verdict'?: (string);
  'server'?: (string);
}

export interface ReasoningChecked__Output {
  'step': (number);
  'index': (number);
  'correct': (boolean);
  'verdict': (string);
  'server': (string);
}
