// Original file: proto/stagebeam/v1/reasoner.proto

import type { Selection as _stagebeam_v1_Selection, Selection__Output as _stagebeam_v1_Selection__Output } from '../../stagebeam/v1/Selection.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * The first event: what the search runs, and its selection rules.
 */
export interface SearchStarted {
  'strategy'?: (string);
  'candidates'?: (number);
  'seed'?: (number | string | Long);
  'selection'?: (_stagebeam_v1_Selection | null);
}

/**
 * The first event: what the search runs, and its selection rules.
 */
export interface SearchStarted__Output {
  'strategy': (string);
  'candidates': (number);
  'seed': (string);
  'selection': (_stagebeam_v1_Selection__Output | null);
}
