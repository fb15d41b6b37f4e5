// Original file: proto/stagebeam/v1/reasoner.proto

import type { Long } from '@grpc/proto-loader';

export interface Usage {
  'promptTokens'?: (number | string | Long);
  'completionTokens'?: (number | string | Long);
  'generationCalls'?: (number);
  'judgeCalls'?: (number);
  'correctnessChecks'?: (number);
}

export interface Usage__Output {
  'promptTokens': (string);
  'completionTokens': (string);
  'generationCalls': (number);
  'judgeCalls': (number);
  'correctnessChecks': (number);
}
