// Original file: proto/stagebeam/v1/reasoner.proto


/**
 * One server of a pool as its last probe showed it.
 */
export interface ServerDescription {
  /**
   * "vllm", "sglang", "openai-compatible", or "unknown" (not probed yet, or unreachable).
   */
  'kind'?: (string);
  /**
   * vLLM's /version ("" when the server has none or was not reached).
   */
  'version'?: (string);
}

/**
 * One server of a pool as its last probe showed it.
 */
export interface ServerDescription__Output {
  /**
   * "vllm", "sglang", "openai-compatible", or "unknown" (not probed yet, or unreachable).
   */
  'kind': (string);
  /**
   * vLLM's /version ("" when the server has none or was not reached).
   */
  'version': (string);
}
