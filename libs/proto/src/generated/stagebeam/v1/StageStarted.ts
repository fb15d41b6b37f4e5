// Original file: proto/stagebeam/v1/reasoner.proto


export interface StageStarted {
  'stage'?: (string);
  'candidates'?: (number);
}

export interface StageStarted__Output {
  'stage': (string);
  'candidates': (number);
}
