// Original file: proto/stagebeam/v1/reasoner.proto

import type { Long } from '@grpc/proto-loader';

export interface MatchJudged {
  'step'?: (number);
  'kind'?: (string);
  'round'?: (number);
  /**
   * Candidate indexes, in the order the judge saw them ("Response 1", "Response 2").
   */
  'first'?: (number);
  'second'?: (number);
  'winner'?: (number);
  /**
   * The judge's raw output.
   */
  'verdict'?: (string);
  /**
   * False when the verdict named neither response (the reference then picks the second).
   */
  'explicit'?: (boolean);
  'server'?: (string);
  /**
   * "JUDGE" (the verdicts named the winner: one verdict, both orders agreeing, a majority of votes); "MARGIN" (they
   * disagreed and the larger logprob margin decided); "COIN" (nothing decided it: a seeded coin after the judge's
   * calls); "CORRECTNESS" when the reasoning pre-check settled it; "IDENTICAL" for two identical texts (a seeded
   * coin, no call); "UNREADABLE" for a REASONING match the reference's pre-check would crash on (a response it cannot
   * read: the readable one wins after its check, else the second). first/second are in the order the judge saw them
   * when one verdict decided.
   */
  'decidedBy'?: (string);
  'startedAtMs'?: (number | string | Long);
  'endedAtMs'?: (number | string | Long);
  /**
   * Summed natural-log odds of the winner over the verdicts that had logprobs (CHOICE verdicts); unset without.
   */
  'margin'?: (number | string);
  /**
   * Verdicts for first and for second (a coin does not vote).
   */
  'votesFirst'?: (number);
  'votesSecond'?: (number);
  /**
   * One verdict, shown in the other order than the tournament paired them (match_order SEEDED).
   */
  'orderFlipped'?: (boolean);
  /**
   * A verdict was asked again with the responses swapped.
   */
  'reasked'?: (boolean);
  /**
   * "FREE_TEXT" or "CHOICE": how the judge answered.
   */
  'verdictMode'?: (string);
  /**
   * Judge calls the match took.
   */
  'calls'?: (number);
  '_margin'?: "margin";
}

export interface MatchJudged__Output {
  'step': (number);
  'kind': (string);
  'round': (number);
  /**
   * Candidate indexes, in the order the judge saw them ("Response 1", "Response 2").
   */
  'first': (number);
  'second': (number);
  'winner': (number);
  /**
   * The judge's raw output.
   */
  'verdict': (string);
  /**
   * False when the verdict named neither response (the reference then picks the second).
   */
  'explicit': (boolean);
  'server': (string);
  /**
   * "JUDGE" (the verdicts named the winner: one verdict, both orders agreeing, a majority of votes); "MARGIN" (they
   * disagreed and the larger logprob margin decided); "COIN" (nothing decided it: a seeded coin after the judge's
   * calls); "CORRECTNESS" when the reasoning pre-check settled it; "IDENTICAL" for two identical texts (a seeded
   * coin, no call); "UNREADABLE" for a REASONING match the reference's pre-check would crash on (a response it cannot
   * read: the readable one wins after its check, else the second). first/second are in the order the judge saw them
   * when one verdict decided.
   */
  'decidedBy': (string);
  'startedAtMs': (string);
  'endedAtMs': (string);
  /**
   * Summed natural-log odds of the winner over the verdicts that had logprobs (CHOICE verdicts); unset without.
   */
  'margin'?: (number);
  /**
   * Verdicts for first and for second (a coin does not vote).
   */
  'votesFirst': (number);
  'votesSecond': (number);
  /**
   * One verdict, shown in the other order than the tournament paired them (match_order SEEDED).
   */
  'orderFlipped': (boolean);
  /**
   * A verdict was asked again with the responses swapped.
   */
  'reasked': (boolean);
  /**
   * "FREE_TEXT" or "CHOICE": how the judge answered.
   */
  'verdictMode': (string);
  /**
   * Judge calls the match took.
   */
  'calls': (number);
  '_margin'?: "margin";
}
