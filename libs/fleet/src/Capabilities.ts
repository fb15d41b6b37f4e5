import { Schema } from "effect"

/** The request field that constrains an answer to one of a list of strings, if the server has one. */
export const ConstrainedChoice = Schema.Literals(["guided_choice", "structured_outputs", "none"])
export type ConstrainedChoice = typeof ConstrainedChoice.Type

/** What the servers of a pool can do with a chat request. Where one cannot, the callers fall back or refuse. */
export const Capabilities = Schema.Struct({
  /** Several samples in one request (`n`), sharing one prefill. */
  n: Schema.Boolean,
  /** Stop strings end a sample (else it writes on, and the gateway cuts it). */
  stop: Schema.Boolean,
  /** Continuing a partial assistant message (vLLM's `continue_final_message`): stage and sentence search need it. */
  continuation: Schema.Boolean,
  /** A `usage` block with token counts (else they are estimated). */
  usage: Schema.Boolean,
  /** Token logprobs (`logprobs`, `top_logprobs`). */
  logprobs: Schema.Boolean,
  constrainedChoice: ConstrainedChoice,
  /** A request `priority` (vLLM with `--scheduling-policy priority`). */
  priority: Schema.Boolean,
  /** Image parts in the user turn. */
  images: Schema.Boolean,
  /** vLLM's `/pooling` (reward models) and `/score` (cross-encoders) endpoints. */
  pooling: Schema.Boolean,
  score: Schema.Boolean,
  /** The served context length in tokens (`max_model_len`), when the server says. */
  maxContext: Schema.optional(Schema.Int),
  /**
   * Fields the gateway relies on that a server was seen to accept and ignore (HTTP 200, output unaffected: vLLM's
   * `extra="allow"`), e.g. `structured_outputs` on vLLM 0.10.2. Probed, never declared.
   */
  ignoredFields: Schema.optional(Schema.Array(Schema.String)),
})
export type Capabilities = typeof Capabilities.Type

/** Capabilities as the settings declare them: each one known to the operator, the rest probed. */
export type DeclaredCapabilities = {
  readonly [K in Exclude<keyof Capabilities, "ignoredFields">]?: Capabilities[K] | undefined
}

/** What a server is, as far as its answers tell. */
export type ServerKind = "vllm" | "sglang" | "openai-compatible"

/**
 * Assumed until a server has answered a probe: vLLM v0.10.2 serving the model with the flags the README gives,
 * the server this gateway was built for. Fallbacks that react to answers (fewer choices, a missing usage block, a
 * stop string written past) still apply meanwhile.
 */
export const ASSUMED: Capabilities = {
  n: true,
  stop: true,
  continuation: true,
  usage: true,
  logprobs: true,
  constrainedChoice: "guided_choice",
  priority: false,
  images: true,
  pooling: false,
  score: false,
}

/** "0.10.2" → [0, 10, 2]; anything unreadable sorts as 0. */
const versionParts = (version: string): ReadonlyArray<number> =>
  version.split(/[.+-]/).map((part) => Number.parseInt(part, 10) || 0)

const atLeast = (version: string, minimum: ReadonlyArray<number>): boolean => {
  const parts = versionParts(version)
  for (let i = 0; i < minimum.length; i++) {
    const diff = (parts[i] ?? 0) - minimum[i]!
    if (diff !== 0) return diff > 0
  }
  return true
}

/**
 * What a server of a known kind does, from its documentation (its version a first guess only):
 * - vLLM: every field the orchestrator uses. The choice field by version is a guess the probe then checks
 *   (Probe.ts `probeChoiceField`): `guided_choice` before 0.11 (0.10.2's protocol.py has no `structured_outputs`;
 *   the rename, PR #22772, shipped in 0.11.0), `structured_outputs` from 0.11 (`guided_*` removed in 0.12, and
 *   ignored there like any unknown field). `priority` needs `--scheduling-policy priority` (the probe asks) and
 *   /pooling and /score a pooling model (that does not show from outside, so they stay off unless declared).
 * - SGLang: n, stop strings (it trims them, reporting `matched_stop`), continue_final_message, usage, logprobs; it
 *   constrains with regex/EBNF/JSON schema but has no list-of-choices field.
 */
export const documentedCapabilities = (kind: "vllm" | "sglang", version: string | undefined): Capabilities =>
  kind === "vllm"
    ? {
        ...ASSUMED,
        constrainedChoice:
          version !== undefined && atLeast(version, [0, 11, 0]) ? "structured_outputs" : "guided_choice",
      }
    : { ...ASSUMED, constrainedChoice: "none" }

/**
 * A pool's capabilities from what its servers showed: a capability holds when every profiled server has it (a
 * call may go to any of them), the choice field when they all use the same one, the context is the smallest.
 * What the settings declare wins over anything probed.
 */
export const poolCapabilities = (
  probed: ReadonlyArray<Capabilities>,
  declared: DeclaredCapabilities = {},
): Capabilities => {
  const combined =
    probed.length === 0
      ? ASSUMED
      : probed.reduce(
          (all, one): Capabilities => ({
            n: all.n && one.n,
            stop: all.stop && one.stop,
            continuation: all.continuation && one.continuation,
            usage: all.usage && one.usage,
            logprobs: all.logprobs && one.logprobs,
            constrainedChoice: all.constrainedChoice === one.constrainedChoice ? all.constrainedChoice : "none",
            priority: all.priority && one.priority,
            images: all.images && one.images,
            pooling: all.pooling && one.pooling,
            score: all.score && one.score,
            ...minContext(all.maxContext, one.maxContext),
            ...unionIgnored(all.ignoredFields, one.ignoredFields),
          }),
        )
  return { ...combined, ...definedOnly(declared) }
}

const minContext = (a: number | undefined, b: number | undefined) => {
  const known = [a, b].filter((value): value is number => value !== undefined)
  return known.length === 0 ? {} : { maxContext: Math.min(...known) }
}

const unionIgnored = (a: ReadonlyArray<string> | undefined, b: ReadonlyArray<string> | undefined) => {
  const all = [...new Set([...(a ?? []), ...(b ?? [])])]
  return all.length === 0 ? {} : { ignoredFields: all }
}

const definedOnly = (declared: DeclaredCapabilities): Partial<Capabilities> =>
  Object.fromEntries(Object.entries(declared).filter(([, value]) => value !== undefined))

const FLAGS = ["n", "stop", "continuation", "usage", "logprobs", "priority", "images", "pooling", "score"] as const

/** One line for the logs: "n, stop, … ; not: priority, …; choice field: structured_outputs; context 8192". */
export const describeCapabilities = (capabilities: Capabilities): string => {
  const has = FLAGS.filter((flag) => capabilities[flag])
  const lacks = FLAGS.filter((flag) => !capabilities[flag])
  return [
    `can: ${has.join(", ") || "nothing optional"}`,
    ...(lacks.length > 0 ? [`cannot: ${lacks.join(", ")}`] : []),
    `choice field: ${capabilities.constrainedChoice}`,
    ...((capabilities.ignoredFields ?? []).length > 0 ? [`ignores: ${capabilities.ignoredFields!.join(", ")}`] : []),
    ...(capabilities.maxContext === undefined ? [] : [`context ${capabilities.maxContext}`]),
  ].join("; ")
}

/**
 * The request fields that constrain an answer to `choices` on servers with these capabilities (nothing when they
 * have no choice field: the caller must then read a free-text answer).
 */
export const choiceConstraint = (
  capabilities: Capabilities,
  choices: ReadonlyArray<string>,
): {
  readonly guided_choice?: ReadonlyArray<string>
  readonly structured_outputs?: { readonly choice: ReadonlyArray<string> }
} => {
  switch (capabilities.constrainedChoice) {
    case "guided_choice":
      return { guided_choice: choices }
    case "structured_outputs":
      return { structured_outputs: { choice: choices } }
    case "none":
      return {}
  }
}
