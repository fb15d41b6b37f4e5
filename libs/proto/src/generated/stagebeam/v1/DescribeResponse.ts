// Original file: proto/stagebeam/v1/reasoner.proto

import type { PoolDescription as _stagebeam_v1_PoolDescription, PoolDescription__Output as _stagebeam_v1_PoolDescription__Output } from '../../stagebeam/v1/PoolDescription.ts';

export interface DescribeResponse {
  /**
   * The gateway package's version and the git commit it was built from ($STAGEBEAM_COMMIT, else "unknown").
   */
  'version'?: (string);
  'commit'?: (string);
  /**
   * True when any pool is simulated.
   */
  'simulated'?: (boolean);
  'pools'?: (_stagebeam_v1_PoolDescription)[];
}

export interface DescribeResponse__Output {
  /**
   * The gateway package's version and the git commit it was built from ($STAGEBEAM_COMMIT, else "unknown").
   */
  'version': (string);
  'commit': (string);
  /**
   * True when any pool is simulated.
   */
  'simulated': (boolean);
  'pools': (_stagebeam_v1_PoolDescription__Output)[];
}
