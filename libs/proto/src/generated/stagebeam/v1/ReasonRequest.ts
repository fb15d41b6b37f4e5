// Original file: proto/stagebeam/v1/reasoner.proto

import type { Image as _stagebeam_v1_Image, Image__Output as _stagebeam_v1_Image__Output } from '../../stagebeam/v1/Image.ts';
import type { SearchOptions as _stagebeam_v1_SearchOptions, SearchOptions__Output as _stagebeam_v1_SearchOptions__Output } from '../../stagebeam/v1/SearchOptions.ts';
import type { JudgeSelector as _stagebeam_v1_JudgeSelector, JudgeSelector__Output as _stagebeam_v1_JudgeSelector__Output } from '../../stagebeam/v1/JudgeSelector.ts';

export interface ReasonRequest {
  'question'?: (string);
  /**
   * Optional. The model was trained only with images: without one, STAGE_BEAM writes a fixed caption saying there
   * is no image instead of letting the model describe one; the other strategies let the model write its own.
   */
  'image'?: (_stagebeam_v1_Image | null);
  'search'?: (_stagebeam_v1_SearchOptions | null);
  /**
   * Return the four stages, not only the conclusion.
   */
  'includeStages'?: (boolean);
  /**
   * Return the search trace (candidates and matches).
   */
  'includeTrace'?: (boolean);
  'judge'?: (_stagebeam_v1_JudgeSelector | null);
}

export interface ReasonRequest__Output {
  'question': (string);
  /**
   * Optional. The model was trained only with images: without one, STAGE_BEAM writes a fixed caption saying there
   * is no image instead of letting the model describe one; the other strategies let the model write its own.
   */
  'image': (_stagebeam_v1_Image__Output | null);
  'search': (_stagebeam_v1_SearchOptions__Output | null);
  /**
   * Return the four stages, not only the conclusion.
   */
  'includeStages': (boolean);
  /**
   * Return the search trace (candidates and matches).
   */
  'includeTrace': (boolean);
  'judge': (_stagebeam_v1_JudgeSelector__Output | null);
}
