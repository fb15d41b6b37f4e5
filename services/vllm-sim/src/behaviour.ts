// Behaviour profiles: how one kind of OpenAI-compatible server treats the same chat request, written from each
// server's documentation and source (not from the gateway). A behaviour is independent of the performance profile:
// any server kind can run on any simulated GPU.

export type BehaviourName = "vllm-0.10" | "vllm-0.11" | "vllm-0.12" | "sglang" | "minimal"

/** A field that constrains the output to one of a list of strings. */
export type ChoiceField = "guided_choice" | "structured_outputs"

export interface Behaviour {
  readonly name: BehaviourName
  readonly description: string
  /** GET /version answers `{version}` (vLLM); undefined: 404. */
  readonly version: string | undefined
  /** `owned_by` of the /v1/models cards. */
  readonly ownedBy: string
  /** The model cards carry `max_model_len` (vLLM, SGLang; not OpenAI's API). */
  readonly listsMaxModelLen: boolean
  /** A request's `model` must be the served name (else 404); SGLang serves whatever name it is sent. */
  readonly checksModel: boolean
  /** `n` samples per request; otherwise every request answers one choice. */
  readonly n: boolean
  /**
   * Stop strings: "vllm" stops and drops the string unless `include_stop_str_in_output` (reports `stop_reason`);
   * "sglang" stops and drops it unless `no_stop_trim` (reports `matched_stop`); "ignored" writes on to the end.
   */
  readonly stop: "vllm" | "sglang" | "ignored"
  /** A `usage` block (and the streamed usage chunk when asked for). */
  readonly usage: boolean
  /** `continue_final_message` continues a trailing assistant message; otherwise it is a finished turn. */
  readonly continuation: boolean
  readonly logprobs: boolean
  /** The choice-constraining fields honoured; any other is ignored like every unknown field. */
  readonly choiceFields: ReadonlyArray<ChoiceField>
  /**
   * How a request's n > 1 samples run. "children": as n separate requests (vLLM V0's ParallelSampleSequenceGroup,
   * V1's ParentRequest): each its own prefill, vision encoder and KV (unless prefix caching shares the prompt), one
   * slot each in num_requests_running, child i seeded seed + i. "shared": one prefill for all n (SGLang's model here).
   */
  readonly parallelSampling: "children" | "shared"
  /** n > 1 at temperature 0 is a 400 (vLLM's SamplingParams._verify_greedy_sampling). */
  readonly refusesGreedyN: boolean
  /**
   * Request fields this server does not know: accepted, ignored, and logged as vLLM's OpenAIBaseModel does
   * (`extra="allow"`, "The following fields were present in the request but ignored: {...}").
   */
  readonly ignoredFields: ReadonlyArray<string>
  /** A `seed` makes sampling reproducible (SGLang only with --enable-deterministic-inference). */
  readonly seeds: boolean
  /** `priority` is vLLM's (400 unless --scheduling-policy priority); elsewhere it is accepted and ignored. */
  readonly priority: boolean
  readonly errorFormat: "nested" | "flat"
  readonly metrics: "vllm-v0" | "vllm-v1" | "sglang" | "none"
  /** GET /health and /ping. */
  readonly health: boolean
  readonly tokenize: boolean
  /** SGLang's native /get_model_info and /get_server_info. */
  readonly nativeInfo: boolean
  /** Automatic prefix caching regardless of the performance profile (V1 engine, SGLang's radix cache). */
  readonly prefixCaching: boolean | undefined
  /** The paths `--api-key` protects, and the 401 body. */
  readonly guarded: (path: string) => boolean
  readonly unauthorized: unknown
}

const vllmUnauthorized = { error: "Unauthorized" }

// vLLM 0.10.2 (V0 engine, what serves mllama), each behaviour from its source:
// - vllm/entrypoints/openai/protocol.py (read at commit 0052bed3, a 0.10.x tree: it imports GuidedDecodingParams and
//   has no StructuredOutputsParams): ChatCompletionRequest has guided_choice/guided_json/... and no
//   structured_outputs; OpenAIBaseModel is extra="allow" and `logger.warning`s "The following fields were present in
//   the request but ignored: %s". The rename to structured_outputs is PR #22772, first shipped in 0.11.0.
// - vllm/sequence.py ParallelSampleSequenceGroup.add_request: n > 1 becomes n child requests
//   `{id}_parallel_sample_{i}`, each n = 1 and seeded seed + i, assembled in index order.
// - vllm/sampling_params.py _verify_greedy_sampling: temperature < 1e-5 with n > 1 raises "n must be 1 when using
//   greedy sampling, got {n}." (a ValueError the API server answers with 400 BadRequestError).
// - vllm/engine/output_processor/stop_checker.py: a stop string ends the sequence and is cut from the text unless
//   include_stop_str_in_output (see generate.ts).
const vllm010: Behaviour = {
  name: "vllm-0.10",
  description:
    "vLLM v0.10.2 (V0 engine for mllama): guided_choice only (structured_outputs ignored and logged), n > 1 as n child requests, V0 metrics",
  version: "0.10.2",
  ownedBy: "vllm",
  listsMaxModelLen: true,
  checksModel: true,
  n: true,
  stop: "vllm",
  usage: true,
  continuation: true,
  logprobs: true,
  choiceFields: ["guided_choice"],
  parallelSampling: "children",
  refusesGreedyN: true,
  ignoredFields: ["structured_outputs", "no_stop_trim"],
  seeds: true,
  priority: true,
  errorFormat: "nested",
  metrics: "vllm-v0",
  health: true,
  tokenize: true,
  nativeInfo: false,
  prefixCaching: undefined,
  // vLLM's AuthenticationMiddleware guards /v1 (health, metrics, version and tokenize stay open).
  guarded: (path) => path.startsWith("/v1"),
  unauthorized: vllmUnauthorized,
}

// vLLM 0.11.x (V1 only: V0 was removed in 0.11.0, and mllama with it): structured_outputs added (PR #22772) while
// guided_* still works, deprecated. V1 splits n > 1 into child requests too (vllm/v1/engine/parallel_sampling.py),
// which share the prompt through automatic prefix caching (PR #10980).
const vllm011: Behaviour = {
  ...vllm010,
  name: "vllm-0.11",
  description:
    "vLLM v0.11.x (V1 engine, not mllama): guided_choice and structured_outputs, n > 1 as children sharing the prefix cache, V1 metrics",
  version: "0.11.0",
  choiceFields: ["structured_outputs", "guided_choice"],
  ignoredFields: ["no_stop_trim"],
  metrics: "vllm-v1",
  prefixCaching: true,
}

const vllm012: Behaviour = {
  ...vllm011,
  name: "vllm-0.12",
  description:
    "vLLM v0.12+ (V1 engine): structured_outputs only (guided_* removed and ignored), V1 metrics, prefix caching",
  version: "0.12.0",
  // PR #29326 removed guided_*; unknown fields are ignored (extra="allow"), so the output comes back unconstrained.
  choiceFields: ["structured_outputs"],
  ignoredFields: ["guided_choice", "no_stop_trim"],
}

const sglang: Behaviour = {
  name: "sglang",
  description:
    "SGLang's OpenAI-compatible API: n, stop (trimmed unless no_stop_trim), continue_final_message, no choice field, flat errors, sglang: metrics, radix cache",
  version: undefined,
  ownedBy: "sglang",
  listsMaxModelLen: true,
  checksModel: false,
  n: true,
  stop: "sglang",
  usage: true,
  continuation: true,
  logprobs: true,
  // SGLang constrains with regex / ebnf / json_schema, not a list of choices.
  choiceFields: [],
  parallelSampling: "shared",
  refusesGreedyN: false,
  ignoredFields: ["guided_choice", "structured_outputs", "priority"],
  seeds: false,
  priority: false,
  errorFormat: "flat",
  metrics: "sglang",
  health: true,
  tokenize: true,
  nativeInfo: true,
  prefixCaching: true,
  // add_api_key_middleware leaves only /health* and /metrics open.
  guarded: (path) => !path.startsWith("/health") && !path.startsWith("/metrics"),
  unauthorized: vllmUnauthorized,
}

const minimal: Behaviour = {
  name: "minimal",
  description:
    "a minimal OpenAI-compatible server (OpenAI API reference): one choice, no stop, no usage, no continuation, no logprobs, no /health",
  version: undefined,
  ownedBy: "organization-owner",
  listsMaxModelLen: false,
  checksModel: true,
  n: false,
  stop: "ignored",
  usage: false,
  continuation: false,
  logprobs: false,
  choiceFields: [],
  parallelSampling: "shared",
  refusesGreedyN: false,
  ignoredFields: [],
  seeds: true,
  priority: false,
  errorFormat: "nested",
  metrics: "none",
  health: false,
  tokenize: false,
  nativeInfo: false,
  prefixCaching: undefined,
  guarded: () => true,
  unauthorized: {
    error: {
      message: "Incorrect API key provided.",
      type: "invalid_request_error",
      param: null,
      code: "invalid_api_key",
    },
  },
}

export const behaviours: ReadonlyMap<BehaviourName, Behaviour> = new Map(
  [vllm010, vllm011, vllm012, sglang, minimal].map((b) => [b.name, b]),
)

export const defaultBehaviourName: BehaviourName = "vllm-0.10"

export const resolveBehaviour = (name: string | undefined): Behaviour => {
  const found = behaviours.get((name ?? defaultBehaviourName) as BehaviourName)
  if (found === undefined) throw new Error(`unknown behaviour "${name}"; known: ${[...behaviours.keys()].join(", ")}`)
  return found
}
