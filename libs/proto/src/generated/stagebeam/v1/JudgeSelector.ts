// Original file: proto/stagebeam/v1/reasoner.proto

import type { JudgeKind as _stagebeam_v1_JudgeKind, JudgeKind__Output as _stagebeam_v1_JudgeKind__Output } from '../../stagebeam/v1/JudgeKind.ts';

export interface JudgeSelector {
  'kind'?: (_stagebeam_v1_JudgeKind);
  /**
   * For JUDGE_MODEL: the judge pool's name as configured on the server (empty = the only one).
   */
  'name'?: (string);
  /**
   * Judge every match in both orders (two calls, in parallel): a check of the judge's position bias. A match whose
   * verdict flips with the order keeps the first order's pick and is reported as not explicit in the trace. (With
   * random pairing a position bias acts as noise, so this measures the judge rather than raising accuracy.)
   */
  'bothOrders'?: (boolean);
}

export interface JudgeSelector__Output {
  'kind': (_stagebeam_v1_JudgeKind__Output);
  /**
   * For JUDGE_MODEL: the judge pool's name as configured on the server (empty = the only one).
   */
  'name': (string);
  /**
   * Judge every match in both orders (two calls, in parallel): a check of the judge's position bias. A match whose
   * verdict flips with the order keeps the first order's pick and is reported as not explicit in the trace. (With
   * random pairing a position bias acts as noise, so this measures the judge rather than raising accuracy.)
   */
  'bothOrders': (boolean);
}
