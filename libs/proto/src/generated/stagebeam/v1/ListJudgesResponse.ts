// Original file: proto/stagebeam/v1/reasoner.proto

import type { JudgeInfo as _stagebeam_v1_JudgeInfo, JudgeInfo__Output as _stagebeam_v1_JudgeInfo__Output } from '../../stagebeam/v1/JudgeInfo.ts';

export interface ListJudgesResponse {
  'judges'?: (_stagebeam_v1_JudgeInfo)[];
  'defaultJudge'?: (string);
}

export interface ListJudgesResponse__Output {
  'judges': (_stagebeam_v1_JudgeInfo__Output)[];
  'defaultJudge': (string);
}
