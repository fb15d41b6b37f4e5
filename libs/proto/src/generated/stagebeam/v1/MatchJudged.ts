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
   * "JUDGE"; "CORRECTNESS" when the reasoning pre-check settled it; "IDENTICAL" for two identical texts (a seeded
   * coin, no call); "UNREADABLE" for a REASONING match the reference's pre-check would crash on (a response it cannot
   * read: the readable one wins after its check, else the second).
   */
  'decidedBy'?: (string);
  'startedAtMs'?: (number | string | Long);
  'endedAtMs'?: (number | string | Long);
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
   * "JUDGE"; "CORRECTNESS" when the reasoning pre-check settled it; "IDENTICAL" for two identical texts (a seeded
   * coin, no call); "UNREADABLE" for a REASONING match the reference's pre-check would crash on (a response it cannot
   * read: the readable one wins after its check, else the second).
   */
  'decidedBy': (string);
  'startedAtMs': (string);
  'endedAtMs': (string);
}
