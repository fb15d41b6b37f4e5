// Original file: proto/stagebeam/v1/reasoner.proto

import type { Long } from '@grpc/proto-loader';

export interface Usage {
  'promptTokens'?: (number | string | Long);
  'completionTokens'?: (number | string | Long);
  'generationCalls'?: (number);
  'judgeCalls'?: (number);
  'correctnessChecks'?: (number);
  /**
   * True when some counts are estimates: a server sent no usage block (or a call was cut short), so its tokens
   * were counted with the Llama 3 tokenizer (images not counted).
   */
  'tokensEstimated'?: (boolean);
  /**
   * Calls to a pointwise judge (a batched call scoring several candidates counts once).
   */
  'scoringCalls'?: (number);
}

export interface Usage__Output {
  'promptTokens': (string);
  'completionTokens': (string);
  'generationCalls': (number);
  'judgeCalls': (number);
  'correctnessChecks': (number);
  /**
   * True when some counts are estimates: a server sent no usage block (or a call was cut short), so its tokens
   * were counted with the Llama 3 tokenizer (images not counted).
   */
  'tokensEstimated': (boolean);
  /**
   * Calls to a pointwise judge (a batched call scoring several candidates counts once).
   */
  'scoringCalls': (number);
}
