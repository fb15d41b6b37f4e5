// Original file: proto/stagebeam/v1/reasoner.proto


export interface Stage {
  /**
   * "SUMMARY", "CAPTION", "REASONING" or "CONCLUSION".
   */
  'name'?: (string);
  'text'?: (string);
}

export interface Stage__Output {
  /**
   * "SUMMARY", "CAPTION", "REASONING" or "CONCLUSION".
   */
  'name': (string);
  'text': (string);
}
