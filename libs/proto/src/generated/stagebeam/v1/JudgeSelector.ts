// Original file: proto/stagebeam/v1/reasoner.proto

import type { JudgeKind as _stagebeam_v1_JudgeKind, JudgeKind__Output as _stagebeam_v1_JudgeKind__Output } from '../../stagebeam/v1/JudgeKind.ts';

export interface JudgeSelector {
  /**
   * Kept for older clients: JUDGE_SELF picks the judge named "self", JUDGE_MODEL the one named "model".
   */
  'kind'?: (_stagebeam_v1_JudgeKind);
  /**
   * A judge declared on the server, by name (ListJudges lists them); empty = the default (or the one kind names).
   * With JUDGE_MODEL it may also be the judge model's name, as before.
   */
  'name'?: (string);
  /**
   * Judge every match in both orders (two calls, in parallel): consistent verdicts win; a verdict that flips with the
   * order goes to the larger logprob margin (CHOICE verdicts), else to a seeded coin. MatchJudged says which.
   */
  'bothOrders'?: (boolean);
}

export interface JudgeSelector__Output {
  /**
   * Kept for older clients: JUDGE_SELF picks the judge named "self", JUDGE_MODEL the one named "model".
   */
  'kind': (_stagebeam_v1_JudgeKind__Output);
  /**
   * A judge declared on the server, by name (ListJudges lists them); empty = the default (or the one kind names).
   * With JUDGE_MODEL it may also be the judge model's name, as before.
   */
  'name': (string);
  /**
   * Judge every match in both orders (two calls, in parallel): consistent verdicts win; a verdict that flips with the
   * order goes to the larger logprob margin (CHOICE verdicts), else to a seeded coin. MatchJudged says which.
   */
  'bothOrders': (boolean);
}
