// Original file: proto/stagebeam/v1/reasoner.proto


export interface StageChosen {
  'stage'?: (string);
  'winner'?: (number);
  'text'?: (string);
}

export interface StageChosen__Output {
  'stage': (string);
  'winner': (number);
  'text': (string);
}
