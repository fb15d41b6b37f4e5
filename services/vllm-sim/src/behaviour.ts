// Behaviour profiles: how one kind of OpenAI-compatible server treats the same chat request, written from each
// server's documentation and source (not from the gateway). A behaviour is independent of the performance profile:
// any server kind can run on any simulated GPU.

export type BehaviourName = "vllm-0.10" | "vllm-0.12" | "sglang" | "minimal"

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

const vllm010: Behaviour = {
  name: "vllm-0.10",
  description:
    "vLLM v0.10.2 (V0 engine for mllama): every orchestrator field, guided_choice and structured_outputs, V0 metrics",
  version: "0.10.2",
  ownedBy: "vllm",
  listsMaxModelLen: true,
  checksModel: true,
  n: true,
  stop: "vllm",
  usage: true,
  continuation: true,
  logprobs: true,
  // 0.10.2 accepts both: guided_* is deprecated there in favour of structured_outputs (PR #22772).
  choiceFields: ["guided_choice", "structured_outputs"],
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

const vllm012: Behaviour = {
  ...vllm010,
  name: "vllm-0.12",
  description:
    "vLLM v0.12+ (V1 engine): structured_outputs only (guided_* removed and silently ignored), V1 metrics, prefix caching",
  version: "0.12.0",
  // PR #29326 removed guided_*; unknown fields are ignored (extra="allow"), so the output comes back unconstrained.
  choiceFields: ["structured_outputs"],
  metrics: "vllm-v1",
  prefixCaching: true,
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
  [vllm010, vllm012, sglang, minimal].map((b) => [b.name, b]),
)

export const defaultBehaviourName: BehaviourName = "vllm-0.10"

export const resolveBehaviour = (name: string | undefined): Behaviour => {
  const found = behaviours.get((name ?? defaultBehaviourName) as BehaviourName)
  if (found === undefined) throw new Error(`unknown behaviour "${name}"; known: ${[...behaviours.keys()].join(", ")}`)
  return found
}
