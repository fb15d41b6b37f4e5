// Original file: proto/stagebeam/v1/reasoner.proto

import type { ServerDescription as _stagebeam_v1_ServerDescription, ServerDescription__Output as _stagebeam_v1_ServerDescription__Output } from '../../stagebeam/v1/ServerDescription.ts';

export interface PoolDescription {
  'name'?: (string);
  'model'?: (string);
  /**
   * True when the pool's servers are stagebeam's embedded vLLM simulator, not the model.
   */
  'simulated'?: (boolean);
  'servers'?: (_stagebeam_v1_ServerDescription)[];
}

export interface PoolDescription__Output {
  'name': (string);
  'model': (string);
  /**
   * True when the pool's servers are stagebeam's embedded vLLM simulator, not the model.
   */
  'simulated': (boolean);
  'servers': (_stagebeam_v1_ServerDescription__Output)[];
}
