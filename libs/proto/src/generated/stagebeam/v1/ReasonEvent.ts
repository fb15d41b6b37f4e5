// Original file: proto/stagebeam/v1/reasoner.proto

import type { StepStarted as _stagebeam_v1_StepStarted, StepStarted__Output as _stagebeam_v1_StepStarted__Output } from '../../stagebeam/v1/StepStarted.ts';
import type { CandidateGenerated as _stagebeam_v1_CandidateGenerated, CandidateGenerated__Output as _stagebeam_v1_CandidateGenerated__Output } from '../../stagebeam/v1/CandidateGenerated.ts';
import type { ReasoningChecked as _stagebeam_v1_ReasoningChecked, ReasoningChecked__Output as _stagebeam_v1_ReasoningChecked__Output } from '../../stagebeam/v1/ReasoningChecked.ts';
import type { MatchJudged as _stagebeam_v1_MatchJudged, MatchJudged__Output as _stagebeam_v1_MatchJudged__Output } from '../../stagebeam/v1/MatchJudged.ts';
import type { StepChosen as _stagebeam_v1_StepChosen, StepChosen__Output as _stagebeam_v1_StepChosen__Output } from '../../stagebeam/v1/StepChosen.ts';
import type { CutShort as _stagebeam_v1_CutShort, CutShort__Output as _stagebeam_v1_CutShort__Output } from '../../stagebeam/v1/CutShort.ts';
import type { ReasonResponse as _stagebeam_v1_ReasonResponse, ReasonResponse__Output as _stagebeam_v1_ReasonResponse__Output } from '../../stagebeam/v1/ReasonResponse.ts';
import type { SearchStarted as _stagebeam_v1_SearchStarted, SearchStarted__Output as _stagebeam_v1_SearchStarted__Output } from '../../stagebeam/v1/SearchStarted.ts';
import type { CandidateScored as _stagebeam_v1_CandidateScored, CandidateScored__Output as _stagebeam_v1_CandidateScored__Output } from '../../stagebeam/v1/CandidateScored.ts';
import type { Retraced as _stagebeam_v1_Retraced, Retraced__Output as _stagebeam_v1_Retraced__Output } from '../../stagebeam/v1/Retraced.ts';
import type { Long } from '@grpc/proto-loader';

export interface ReasonEvent {
  'atMs'?: (number | string | Long);
  'stepStarted'?: (_stagebeam_v1_StepStarted | null);
  'candidate'?: (_stagebeam_v1_CandidateGenerated | null);
  'reasoningChecked'?: (_stagebeam_v1_ReasoningChecked | null);
  'match'?: (_stagebeam_v1_MatchJudged | null);
  'stepChosen'?: (_stagebeam_v1_StepChosen | null);
  'cutShort'?: (_stagebeam_v1_CutShort | null);
  /**
   * The final answer (the same message Reason returns, without its trace). Always the last event.
   */
  'done'?: (_stagebeam_v1_ReasonResponse | null);
  /**
   * Always the first event.
   */
  'searchStarted'?: (_stagebeam_v1_SearchStarted | null);
  'scored'?: (_stagebeam_v1_CandidateScored | null);
  'retraced'?: (_stagebeam_v1_Retraced | null);
  'event'?: "stepStarted"|"candidate"|"reasoningChecked"|"match"|"stepChosen"|"cutShort"|"done"|"searchStarted"|"scored"|"retraced";
}

export interface ReasonEvent__Output {
  'atMs': (string);
  'stepStarted'?: (_stagebeam_v1_StepStarted__Output | null);
  'candidate'?: (_stagebeam_v1_CandidateGenerated__Output | null);
  'reasoningChecked'?: (_stagebeam_v1_ReasoningChecked__Output | null);
  'match'?: (_stagebeam_v1_MatchJudged__Output | null);
  'stepChosen'?: (_stagebeam_v1_StepChosen__Output | null);
  'cutShort'?: (_stagebeam_v1_CutShort__Output | null);
  /**
   * The final answer (the same message Reason returns, without its trace). Always the last event.
   */
  'done'?: (_stagebeam_v1_ReasonResponse__Output | null);
  /**
   * Always the first event.
   */
  'searchStarted'?: (_stagebeam_v1_SearchStarted__Output | null);
  'scored'?: (_stagebeam_v1_CandidateScored__Output | null);
  'retraced'?: (_stagebeam_v1_Retraced__Output | null);
  'event'?: "stepStarted"|"candidate"|"reasoningChecked"|"match"|"stepChosen"|"cutShort"|"done"|"searchStarted"|"scored"|"retraced";
}
