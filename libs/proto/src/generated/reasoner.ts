import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CandidateGenerated as _stagebeam_v1_CandidateGenerated, CandidateGenerated__Output as _stagebeam_v1_CandidateGenerated__Output } from './stagebeam/v1/CandidateGenerated.ts';
import type { CandidateScored as _stagebeam_v1_CandidateScored, CandidateScored__Output as _stagebeam_v1_CandidateScored__Output } from './stagebeam/v1/CandidateScored.ts';
import type { CutShort as _stagebeam_v1_CutShort, CutShort__Output as _stagebeam_v1_CutShort__Output } from './stagebeam/v1/CutShort.ts';
import type { DescribeRequest as _stagebeam_v1_DescribeRequest, DescribeRequest__Output as _stagebeam_v1_DescribeRequest__Output } from './stagebeam/v1/DescribeRequest.ts';
import type { DescribeResponse as _stagebeam_v1_DescribeResponse, DescribeResponse__Output as _stagebeam_v1_DescribeResponse__Output } from './stagebeam/v1/DescribeResponse.ts';
import type { Image as _stagebeam_v1_Image, Image__Output as _stagebeam_v1_Image__Output } from './stagebeam/v1/Image.ts';
import type { JudgeCapabilities as _stagebeam_v1_JudgeCapabilities, JudgeCapabilities__Output as _stagebeam_v1_JudgeCapabilities__Output } from './stagebeam/v1/JudgeCapabilities.ts';
import type { JudgeInfo as _stagebeam_v1_JudgeInfo, JudgeInfo__Output as _stagebeam_v1_JudgeInfo__Output } from './stagebeam/v1/JudgeInfo.ts';
import type { JudgeSelector as _stagebeam_v1_JudgeSelector, JudgeSelector__Output as _stagebeam_v1_JudgeSelector__Output } from './stagebeam/v1/JudgeSelector.ts';
import type { ListJudgesRequest as _stagebeam_v1_ListJudgesRequest, ListJudgesRequest__Output as _stagebeam_v1_ListJudgesRequest__Output } from './stagebeam/v1/ListJudgesRequest.ts';
import type { ListJudgesResponse as _stagebeam_v1_ListJudgesResponse, ListJudgesResponse__Output as _stagebeam_v1_ListJudgesResponse__Output } from './stagebeam/v1/ListJudgesResponse.ts';
import type { MatchJudged as _stagebeam_v1_MatchJudged, MatchJudged__Output as _stagebeam_v1_MatchJudged__Output } from './stagebeam/v1/MatchJudged.ts';
import type { PoolDescription as _stagebeam_v1_PoolDescription, PoolDescription__Output as _stagebeam_v1_PoolDescription__Output } from './stagebeam/v1/PoolDescription.ts';
import type { ReasonEvent as _stagebeam_v1_ReasonEvent, ReasonEvent__Output as _stagebeam_v1_ReasonEvent__Output } from './stagebeam/v1/ReasonEvent.ts';
import type { ReasonRequest as _stagebeam_v1_ReasonRequest, ReasonRequest__Output as _stagebeam_v1_ReasonRequest__Output } from './stagebeam/v1/ReasonRequest.ts';
import type { ReasonResponse as _stagebeam_v1_ReasonResponse, ReasonResponse__Output as _stagebeam_v1_ReasonResponse__Output } from './stagebeam/v1/ReasonResponse.ts';
import type { ReasonerClient as _stagebeam_v1_ReasonerClient, ReasonerDefinition as _stagebeam_v1_ReasonerDefinition } from './stagebeam/v1/Reasoner.ts';
import type { ReasoningChecked as _stagebeam_v1_ReasoningChecked, ReasoningChecked__Output as _stagebeam_v1_ReasoningChecked__Output } from './stagebeam/v1/ReasoningChecked.ts';
import type { Retraced as _stagebeam_v1_Retraced, Retraced__Output as _stagebeam_v1_Retraced__Output } from './stagebeam/v1/Retraced.ts';
import type { Sampling as _stagebeam_v1_Sampling, Sampling__Output as _stagebeam_v1_Sampling__Output } from './stagebeam/v1/Sampling.ts';
import type { SearchOptions as _stagebeam_v1_SearchOptions, SearchOptions__Output as _stagebeam_v1_SearchOptions__Output } from './stagebeam/v1/SearchOptions.ts';
import type { SearchStarted as _stagebeam_v1_SearchStarted, SearchStarted__Output as _stagebeam_v1_SearchStarted__Output } from './stagebeam/v1/SearchStarted.ts';
import type { Selection as _stagebeam_v1_Selection, Selection__Output as _stagebeam_v1_Selection__Output } from './stagebeam/v1/Selection.ts';
import type { ServerDescription as _stagebeam_v1_ServerDescription, ServerDescription__Output as _stagebeam_v1_ServerDescription__Output } from './stagebeam/v1/ServerDescription.ts';
import type { Stage as _stagebeam_v1_Stage, Stage__Output as _stagebeam_v1_Stage__Output } from './stagebeam/v1/Stage.ts';
import type { StepChosen as _stagebeam_v1_StepChosen, StepChosen__Output as _stagebeam_v1_StepChosen__Output } from './stagebeam/v1/StepChosen.ts';
import type { StepStarted as _stagebeam_v1_StepStarted, StepStarted__Output as _stagebeam_v1_StepStarted__Output } from './stagebeam/v1/StepStarted.ts';
import type { SwiresOptions as _stagebeam_v1_SwiresOptions, SwiresOptions__Output as _stagebeam_v1_SwiresOptions__Output } from './stagebeam/v1/SwiresOptions.ts';
import type { Usage as _stagebeam_v1_Usage, Usage__Output as _stagebeam_v1_Usage__Output } from './stagebeam/v1/Usage.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  stagebeam: {
    v1: {
      CandidateGenerated: MessageTypeDefinition<_stagebeam_v1_CandidateGenerated, _stagebeam_v1_CandidateGenerated__Output>
      CandidateScored: MessageTypeDefinition<_stagebeam_v1_CandidateScored, _stagebeam_v1_CandidateScored__Output>
      CutShort: MessageTypeDefinition<_stagebeam_v1_CutShort, _stagebeam_v1_CutShort__Output>
      DescribeRequest: MessageTypeDefinition<_stagebeam_v1_DescribeRequest, _stagebeam_v1_DescribeRequest__Output>
      DescribeResponse: MessageTypeDefinition<_stagebeam_v1_DescribeResponse, _stagebeam_v1_DescribeResponse__Output>
      Duplicates: EnumTypeDefinition
      Image: MessageTypeDefinition<_stagebeam_v1_Image, _stagebeam_v1_Image__Output>
      JudgeCapabilities: MessageTypeDefinition<_stagebeam_v1_JudgeCapabilities, _stagebeam_v1_JudgeCapabilities__Output>
      JudgeInfo: MessageTypeDefinition<_stagebeam_v1_JudgeInfo, _stagebeam_v1_JudgeInfo__Output>
      JudgeKind: EnumTypeDefinition
      JudgeSelector: MessageTypeDefinition<_stagebeam_v1_JudgeSelector, _stagebeam_v1_JudgeSelector__Output>
      ListJudgesRequest: MessageTypeDefinition<_stagebeam_v1_ListJudgesRequest, _stagebeam_v1_ListJudgesRequest__Output>
      ListJudgesResponse: MessageTypeDefinition<_stagebeam_v1_ListJudgesResponse, _stagebeam_v1_ListJudgesResponse__Output>
      Malformed: EnumTypeDefinition
      MatchJudged: MessageTypeDefinition<_stagebeam_v1_MatchJudged, _stagebeam_v1_MatchJudged__Output>
      MatchOrder: EnumTypeDefinition
      PoolDescription: MessageTypeDefinition<_stagebeam_v1_PoolDescription, _stagebeam_v1_PoolDescription__Output>
      Preset: EnumTypeDefinition
      PromptWording: EnumTypeDefinition
      ReasonEvent: MessageTypeDefinition<_stagebeam_v1_ReasonEvent, _stagebeam_v1_ReasonEvent__Output>
      ReasonRequest: MessageTypeDefinition<_stagebeam_v1_ReasonRequest, _stagebeam_v1_ReasonRequest__Output>
      ReasonResponse: MessageTypeDefinition<_stagebeam_v1_ReasonResponse, _stagebeam_v1_ReasonResponse__Output>
      /**
       * Reasoner answers a question about an image in LLaVA-CoT's four stages and shows only the conclusion,
       * unless the caller asks for the hidden stages or the search trace.
       */
      Reasoner: SubtypeConstructor<typeof grpc.Client, _stagebeam_v1_ReasonerClient> & { service: _stagebeam_v1_ReasonerDefinition }
      ReasoningCheck: EnumTypeDefinition
      ReasoningChecked: MessageTypeDefinition<_stagebeam_v1_ReasoningChecked, _stagebeam_v1_ReasoningChecked__Output>
      Retraced: MessageTypeDefinition<_stagebeam_v1_Retraced, _stagebeam_v1_Retraced__Output>
      Sampling: MessageTypeDefinition<_stagebeam_v1_Sampling, _stagebeam_v1_Sampling__Output>
      SearchOptions: MessageTypeDefinition<_stagebeam_v1_SearchOptions, _stagebeam_v1_SearchOptions__Output>
      SearchStarted: MessageTypeDefinition<_stagebeam_v1_SearchStarted, _stagebeam_v1_SearchStarted__Output>
      Selection: MessageTypeDefinition<_stagebeam_v1_Selection, _stagebeam_v1_Selection__Output>
      ServerDescription: MessageTypeDefinition<_stagebeam_v1_ServerDescription, _stagebeam_v1_ServerDescription__Output>
      Speculation: EnumTypeDefinition
      Stage: MessageTypeDefinition<_stagebeam_v1_Stage, _stagebeam_v1_Stage__Output>
      StepChosen: MessageTypeDefinition<_stagebeam_v1_StepChosen, _stagebeam_v1_StepChosen__Output>
      StepStarted: MessageTypeDefinition<_stagebeam_v1_StepStarted, _stagebeam_v1_StepStarted__Output>
      Strategy: EnumTypeDefinition
      SwiresOptions: MessageTypeDefinition<_stagebeam_v1_SwiresOptions, _stagebeam_v1_SwiresOptions__Output>
      Tournament: EnumTypeDefinition
      UnclearVerdict: EnumTypeDefinition
      Usage: MessageTypeDefinition<_stagebeam_v1_Usage, _stagebeam_v1_Usage__Output>
      VerdictMode: EnumTypeDefinition
    }
  }
}

