// Original file: proto/stagebeam/v1/reasoner.proto

import type { Strategy as _stagebeam_v1_Strategy, Strategy__Output as _stagebeam_v1_Strategy__Output } from '../../stagebeam/v1/Strategy.ts';
import type { Tournament as _stagebeam_v1_Tournament, Tournament__Output as _stagebeam_v1_Tournament__Output } from '../../stagebeam/v1/Tournament.ts';
import type { Sampling as _stagebeam_v1_Sampling, Sampling__Output as _stagebeam_v1_Sampling__Output } from '../../stagebeam/v1/Sampling.ts';
import type { Preset as _stagebeam_v1_Preset, Preset__Output as _stagebeam_v1_Preset__Output } from '../../stagebeam/v1/Preset.ts';
import type { Duplicates as _stagebeam_v1_Duplicates, Duplicates__Output as _stagebeam_v1_Duplicates__Output } from '../../stagebeam/v1/Duplicates.ts';
import type { ReasoningCheck as _stagebeam_v1_ReasoningCheck, ReasoningCheck__Output as _stagebeam_v1_ReasoningCheck__Output } from '../../stagebeam/v1/ReasoningCheck.ts';
import type { UnclearVerdict as _stagebeam_v1_UnclearVerdict, UnclearVerdict__Output as _stagebeam_v1_UnclearVerdict__Output } from '../../stagebeam/v1/UnclearVerdict.ts';
import type { Malformed as _stagebeam_v1_Malformed, Malformed__Output as _stagebeam_v1_Malformed__Output } from '../../stagebeam/v1/Malformed.ts';
import type { PromptWording as _stagebeam_v1_PromptWording, PromptWording__Output as _stagebeam_v1_PromptWording__Output } from '../../stagebeam/v1/PromptWording.ts';
import type { MatchOrder as _stagebeam_v1_MatchOrder, MatchOrder__Output as _stagebeam_v1_MatchOrder__Output } from '../../stagebeam/v1/MatchOrder.ts';
import type { VerdictMode as _stagebeam_v1_VerdictMode, VerdictMode__Output as _stagebeam_v1_VerdictMode__Output } from '../../stagebeam/v1/VerdictMode.ts';
import type { SwiresOptions as _stagebeam_v1_SwiresOptions, SwiresOptions__Output as _stagebeam_v1_SwiresOptions__Output } from '../../stagebeam/v1/SwiresOptions.ts';
import type { Speculation as _stagebeam_v1_Speculation, Speculation__Output as _stagebeam_v1_Speculation__Output } from '../../stagebeam/v1/Speculation.ts';
import type { Long } from '@grpc/proto-loader';

export interface SearchOptions {
  'strategy'?: (_stagebeam_v1_Strategy);
  /**
   * 0 = default (4).
   */
  'candidatesPerStage'?: (number);
  /**
   * Unspecified: the preset's (KNOCKOUT for DEFAULT, SEQUENTIAL for REFERENCE).
   */
  'tournament'?: (_stagebeam_v1_Tournament);
  /**
   * 0 = a random seed (reported back in the response); any other value makes the search reproducible.
   * At most 4294967295 (vLLM seeds are 32-bit).
   */
  'seed'?: (number | string | Long);
  'sampling'?: (_stagebeam_v1_Sampling | null);
  /**
   * Turns the reasoning pre-check on with the preset's rule (ONCE for DEFAULT); reasoning_check_mode chooses the rule.
   */
  'reasoningCheck'?: (boolean);
  /**
   * 0 = no limit: completion tokens this request may spend across all its calls (generation, judge, checks).
   * Prompt tokens are not counted: the image dominates them and the N samples of a call share one prefill.
   * Checked before each step from the costliest call so far, so the last step may overrun it a little.
   */
  'tokenBudget'?: (number | string | Long);
  /**
   * SENTENCE_BEAM only: the most sentences searched before the rest of the answer is completed unjudged (0 = 64).
   */
  'maxSentences'?: (number);
  /**
   * The selection rules (default: PRESET_DEFAULT); the five fields after it override one rule each.
   */
  'preset'?: (_stagebeam_v1_Preset);
  'duplicates'?: (_stagebeam_v1_Duplicates);
  'reasoningCheckMode'?: (_stagebeam_v1_ReasoningCheck);
  'unclearVerdict'?: (_stagebeam_v1_UnclearVerdict);
  'malformed'?: (_stagebeam_v1_Malformed);
  'promptWording'?: (_stagebeam_v1_PromptWording);
  'matchOrder'?: (_stagebeam_v1_MatchOrder);
  'verdict'?: (_stagebeam_v1_VerdictMode);
  /**
   * Verdicts per match, the majority wins (ties: the summed margins, then a seeded coin); 0 = the preset's (1).
   */
  'votes'?: (number);
  /**
   * STRATEGY_SWIRES only.
   */
  'swires'?: (_stagebeam_v1_SwiresOptions | null);
  /**
   * STAGE_BEAM's speculative next stage (unspecified: the server's setting). The answer and the
   * trace's decisions are the same either way; only the latency and the GPU time spent differ.
   */
  'speculation'?: (_stagebeam_v1_Speculation);
  /**
   * Stragglers: a stage's matches start on its first finished samples while the others still decode (the winner
   * meets the next to arrive), so the pairing follows the finishing order and the same seed may answer differently.
   * Unset: the server's setting (off by default); the REFERENCE preset keeps it off unless set here.
   */
  'stragglers'?: (boolean);
  /**
   * How early speculation starts: on the candidates of the round that has at most this many left (2, the default:
   * the finalists; N or more: each candidate as soon as its sample is finished). 0: the server's setting.
   */
  'speculationWidth'?: (number);
  '_stragglers'?: "stragglers";
}

export interface SearchOptions__Output {
  'strategy': (_stagebeam_v1_Strategy__Output);
  /**
   * 0 = default (4).
   */
  'candidatesPerStage': (number);
  /**
   * Unspecified: the preset's (KNOCKOUT for DEFAULT, SEQUENTIAL for REFERENCE).
   */
  'tournament': (_stagebeam_v1_Tournament__Output);
  /**
   * 0 = a random seed (reported back in the response); any other value makes the search reproducible.
   * At most 4294967295 (vLLM seeds are 32-bit).
   */
  'seed': (string);
  'sampling': (_stagebeam_v1_Sampling__Output | null);
  /**
   * Turns the reasoning pre-check on with the preset's rule (ONCE for DEFAULT); reasoning_check_mode chooses the rule.
   */
  'reasoningCheck': (boolean);
  /**
   * 0 = no limit: completion tokens this request may spend across all its calls (generation, judge, checks).
   * Prompt tokens are not counted: the image dominates them and the N samples of a call share one prefill.
   * Checked before each step from the costliest call so far, so the last step may overrun it a little.
   */
  'tokenBudget': (string);
  /**
   * SENTENCE_BEAM only: the most sentences searched before the rest of the answer is completed unjudged (0 = 64).
   */
  'maxSentences': (number);
  /**
   * The selection rules (default: PRESET_DEFAULT); the five fields after it override one rule each.
   */
  'preset': (_stagebeam_v1_Preset__Output);
  'duplicates': (_stagebeam_v1_Duplicates__Output);
  'reasoningCheckMode': (_stagebeam_v1_ReasoningCheck__Output);
  'unclearVerdict': (_stagebeam_v1_UnclearVerdict__Output);
  'malformed': (_stagebeam_v1_Malformed__Output);
  'promptWording': (_stagebeam_v1_PromptWording__Output);
  'matchOrder': (_stagebeam_v1_MatchOrder__Output);
  'verdict': (_stagebeam_v1_VerdictMode__Output);
  /**
   * Verdicts per match, the majority wins (ties: the summed margins, then a seeded coin); 0 = the preset's (1).
   */
  'votes': (number);
  /**
   * STRATEGY_SWIRES only.
   */
  'swires': (_stagebeam_v1_SwiresOptions__Output | null);
  /**
   * STAGE_BEAM's speculative next stage (unspecified: the server's setting). The answer and the
   * trace's decisions are the same either way; only the latency and the GPU time spent differ.
   */
  'speculation': (_stagebeam_v1_Speculation__Output);
  /**
   * Stragglers: a stage's matches start on its first finished samples while the others still decode (the winner
   * meets the next to arrive), so the pairing follows the finishing order and the same seed may answer differently.
   * Unset: the server's setting (off by default); the REFERENCE preset keeps it off unless set here.
   */
  'stragglers'?: (boolean);
  /**
   * How early speculation starts: on the candidates of the round that has at most this many left (2, the default:
   * the finalists; N or more: each candidate as soon as its sample is finished). 0: the server's setting.
   */
  'speculationWidth': (number);
  '_stragglers'?: "stragglers";
}
