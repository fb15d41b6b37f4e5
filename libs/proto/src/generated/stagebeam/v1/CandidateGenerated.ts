// Original file: proto/stagebeam/v1/reasoner.proto

import type { Candidate as _stagebeam_v1_Candidate, Candidate__Output as _stagebeam_v1_Candidate__Output } from '../../stagebeam/v1/Candidate.ts';

export interface CandidateGenerated {
  'stage'?: (string);
  'candidate'?: (_stagebeam_v1_Candidate | null);
}

export interface CandidateGenerated__Output {
  'stage': (string);
  'candidate': (_stagebeam_v1_Candidate__Output | null);
}
