// Original file: proto/stagebeam/v1/reasoner.proto

import type { StageStarted as _stagebeam_v1_StageStarted, StageStarted__Output as _stagebeam_v1_StageStarted__Output } from '../../stagebeam/v1/StageStarted.ts';
import type { CandidateGenerated as _stagebeam_v1_CandidateGenerated, CandidateGenerated__Output as _stagebeam_v1_CandidateGenerated__Output } from '../../stagebeam/v1/CandidateGenerated.ts';
import type { MatchJudged as _stagebeam_v1_MatchJudged, MatchJudged__Output as _stagebeam_v1_MatchJudged__Output } from '../../stagebeam/v1/MatchJudged.ts';
import type { StageChosen as _stagebeam_v1_StageChosen, StageChosen__Output as _stagebeam_v1_StageChosen__Output } from '../../stagebeam/v1/StageChosen.ts';
import type { ReasonResponse as _stagebeam_v1_ReasonResponse, ReasonResponse__Output as _stagebeam_v1_ReasonResponse__Output } from '../../stagebeam/v1/ReasonResponse.ts';
import type { Long } from '@grpc/proto-loader';

export interface ReasonEvent {
  /**
   * Milliseconds since the search started.
   */
  'atMs'?: (number | string | Long);
  'stageStarted'?: (_stagebeam_v1_StageStarted | null);
  'candidate'?: (_stagebeam_v1_CandidateGenerated | null);
  'match'?: (_stagebeam_v1_MatchJudged | null);
  'stageChosen'?: (_stagebeam_v1_StageChosen | null);
  /**
   * The final answer (the same message Reason returns, without its trace).
   */
  'done'?: (_stagebeam_v1_ReasonResponse | null);
  'event'?: "stageStarted"|"candidate"|"match"|"stageChosen"|"done";
}

export interface ReasonEvent__Output {
  /**
   * Milliseconds since the search started.
   */
  'atMs': (string);
  'stageStarted'?: (_stagebeam_v1_StageStarted__Output | null);
  'candidate'?: (_stagebeam_v1_CandidateGenerated__Output | null);
  'match'?: (_stagebeam_v1_MatchJudged__Output | null);
  'stageChosen'?: (_stagebeam_v1_StageChosen__Output | null);
  /**
   * The final answer (the same message Reason returns, without its trace).
   */
  'done'?: (_stagebeam_v1_ReasonResponse__Output | null);
  'event'?: "stageStarted"|"candidate"|"match"|"stageChosen"|"done";
}
