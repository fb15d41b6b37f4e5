// Original file: proto/stagebeam/v1/reasoner.proto

import type { Stage as _stagebeam_v1_Stage, Stage__Output as _stagebeam_v1_Stage__Output } from '../../stagebeam/v1/Stage.ts';
import type { Usage as _stagebeam_v1_Usage, Usage__Output as _stagebeam_v1_Usage__Output } from '../../stagebeam/v1/Usage.ts';
import type { ReasonEvent as _stagebeam_v1_ReasonEvent, ReasonEvent__Output as _stagebeam_v1_ReasonEvent__Output } from '../../stagebeam/v1/ReasonEvent.ts';
import type { Selection as _stagebeam_v1_Selection, Selection__Output as _stagebeam_v1_Selection__Output } from '../../stagebeam/v1/Selection.ts';
import type { Long } from '@grpc/proto-loader';

export interface ReasonResponse {
  /**
   * The user's answer: the text inside <CONCLUSION>.
   */
  'conclusion'?: (string);
  /**
   * Filled when include_stages: the chosen stages in order.
   */
  'stages'?: (_stagebeam_v1_Stage)[];
  'usage'?: (_stagebeam_v1_Usage | null);
  /**
   * The seed used (the request's, or the random one drawn when it was 0).
   */
  'seed'?: (number | string | Long);
  /**
   * Set when the search stopped early ("BUDGET", "DEADLINE", "SENTENCE_LIMIT") and answered with the best so far.
   */
  'truncatedReason'?: (string);
  /**
   * Filled when include_trace.
   */
  'trace'?: (_stagebeam_v1_ReasonEvent)[];
  /**
   * How long the search took, in milliseconds.
   */
  'elapsedMs'?: (number | string | Long);
  'truncatedDetail'?: (string);
  /**
   * "STAGE_BEAM", "BEST_OF_N", "SENTENCE_BEAM", "GREEDY" or "SWIRES", and "KNOCKOUT" or "SEQUENTIAL": what ran.
   */
  'strategy'?: (string);
  'tournament'?: (string);
  /**
   * Which preset and rules were in force, and where they deviate from the reference.
   */
  'selection'?: (_stagebeam_v1_Selection | null);
}

export interface ReasonResponse__Output {
  /**
   * The user's answer: the text inside <CONCLUSION>.
   */
  'conclusion': (string);
  /**
   * Filled when include_stages: the chosen stages in order.
   */
  'stages': (_stagebeam_v1_Stage__Output)[];
  'usage': (_stagebeam_v1_Usage__Output | null);
  /**
   * The seed used (the request's, or the random one drawn when it was 0).
   */
  'seed': (string);
  /**
   * Set when the search stopped early ("BUDGET", "DEADLINE", "SENTENCE_LIMIT") and answered with the best so far.
   */
  'truncatedReason': (string);
  /**
   * Filled when include_trace.
   */
  'trace': (_stagebeam_v1_ReasonEvent__Output)[];
  /**
   * How long the search took, in milliseconds.
   */
  'elapsedMs': (string);
  'truncatedDetail': (string);
  /**
   * "STAGE_BEAM", "BEST_OF_N", "SENTENCE_BEAM", "GREEDY" or "SWIRES", and "KNOCKOUT" or "SEQUENTIAL": what ran.
   */
  'strategy': (string);
  'tournament': (string);
  /**
   * Which preset and rules were in force, and where they deviate from the reference.
   */
  'selection': (_stagebeam_v1_Selection__Output | null);
}
