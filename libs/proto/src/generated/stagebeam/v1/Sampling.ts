// Original file: proto/stagebeam/v1/reasoner.proto


export interface Sampling {
  /**
   * Unset fields take the paper's defaults: temperature 0.6, top_p 0.9, 2048 tokens per call.
   */
  'temperature'?: (number | string);
  'topP'?: (number | string);
  'maxTokens'?: (number);
  '_temperature'?: "temperature";
  '_topP'?: "topP";
  '_maxTokens'?: "maxTokens";
}

export interface Sampling__Output {
  /**
   * Unset fields take the paper's defaults: temperature 0.6, top_p 0.9, 2048 tokens per call.
   */
  'temperature'?: (number);
  'topP'?: (number);
  'maxTokens'?: (number);
  '_temperature'?: "temperature";
  '_topP'?: "topP";
  '_maxTokens'?: "maxTokens";
}
