// Original file: proto/stagebeam/v1/reasoner.proto


export interface StepStarted {
  'step'?: (number);
  'kind'?: (string);
  'candidates'?: (number);
}

export interface StepStarted__Output {
  'step': (number);
  'kind': (string);
  'candidates': (number);
}
