import type { ChatMessage } from "@stagebeam/cot"
import { Duration, Effect, Option, Predicate, Schedule } from "effect"
import {
  ASSUMED,
  type Capabilities,
  type ConstrainedChoice,
  documentedCapabilities,
  type ServerKind,
} from "./Capabilities.ts"
import type { ChatRequest } from "./ChatCompletion.ts"
import { OpenAiClient, type ServerTarget } from "./OpenAiClient.ts"

/** What a server showed when it joined: what it is, and what it can do. */
export interface ServerProfile {
  readonly kind: ServerKind
  /** vLLM's /version. */
  readonly version: string | undefined
  readonly capabilities: Capabilities
  /** The server is a simulator (vllm-sim marks its model card `simulated_by`): its answers are not a model's. */
  readonly simulated?: boolean
}

export type ProbeOutcome =
  | { readonly _tag: "Profiled"; readonly profile: ServerProfile }
  /** No answer at all: it is down (or not there yet); it is probed again when it joins. */
  | { readonly _tag: "Unreachable" }
  /** /v1/models answered 401 or 403: the pool's key is missing or wrong. */
  | { readonly _tag: "KeyRefused"; readonly status: number }
  /** /v1/models does not list the pool's model. */
  | { readonly _tag: "ModelMissing"; readonly offered: ReadonlyArray<string> }

const GET_TIMEOUT = Duration.seconds(3)
const CHAT_TIMEOUT = Duration.seconds(10)

interface ModelCard {
  readonly id: string
  readonly owned_by?: unknown
  readonly max_model_len?: unknown
  readonly simulated_by?: unknown
}

const modelCards = (json: unknown): ReadonlyArray<ModelCard> | undefined => {
  if (!Predicate.isObject(json) || !("data" in json) || !Array.isArray(json.data)) return undefined
  return json.data.filter((card): card is ModelCard => Predicate.isObject(card) && Predicate.isString(card.id))
}

const kindOf = (version: string | undefined, ownedBy: unknown): ServerKind =>
  version !== undefined || ownedBy === "vllm" ? "vllm" : ownedBy === "sglang" ? "sglang" : "openai-compatible"

const user = (text: string): ReadonlyArray<ChatMessage> => [{ role: "user", content: [{ type: "text", text }] }]

/** Strings no model writes unconstrained: an answer that is exactly one of them was constrained. */
const PROBE_CHOICES = ["zq7", "xk4"]

/**
 * For a server of unknown kind, a few tiny requests (one to sixteen tokens each) show what it does with the fields
 * the fallbacks depend on. Continuation cannot be told apart from a model that happens to repeat itself, so it is
 * assumed absent there (hosted APIs do not continue): declare it for a server that does.
 */
const probeByRequests = (target: ServerTarget & { readonly model: string }) =>
  Effect.gen(function* () {
    const client = yield* OpenAiClient
    const ask = (request: ChatRequest, label: string) =>
      client
        .chat({ ...target, kind: "openai-compatible" }, request, {
          requestId: `stagebeam-probe-${label}`,
          timeout: CHAT_TIMEOUT,
          raw: true,
        })
        .pipe(Effect.option)
    const rich = yield* ask(
      { messages: user("Say hello."), n: 2, max_tokens: 1, logprobs: true, top_logprobs: 1 },
      "samples",
    )
    // A strict server refuses fields it does not know: then it has none of them.
    const plain = Option.isSome(rich) ? rich : yield* ask({ messages: user("Say hello."), max_tokens: 1 }, "plain")
    const sampled = Option.getOrUndefined(rich)
    const stopped = yield* ask(
      { messages: user("Write one sentence of at least ten words."), max_tokens: 16, stop: [" "] },
      "stop",
    )
    const constrained = (request: Partial<ChatRequest>, label: string) =>
      Effect.map(ask({ messages: user("Pick one."), max_tokens: 4, ...request }, label), (answer) =>
        Option.match(answer, {
          onNone: () => false,
          onSome: (completion) => PROBE_CHOICES.includes((completion.choices[0]?.message.content ?? "").trim()),
        }),
      )
    const choiceField: ConstrainedChoice = (yield* constrained(
      { structured_outputs: { choice: PROBE_CHOICES } },
      "structured",
    ))
      ? "structured_outputs"
      : (yield* constrained({ guided_choice: PROBE_CHOICES }, "guided"))
        ? "guided_choice"
        : "none"
    const stopText = Option.map(stopped, (completion) => completion.choices[0])
    return {
      ...ASSUMED,
      n: (sampled?.choices.length ?? 0) >= 2,
      logprobs: (sampled?.choices[0]?.logprobs?.length ?? 0) > 0,
      usage: Option.match(plain, { onNone: () => ASSUMED.usage, onSome: (c) => c.usage.estimated !== true }),
      // Honoured: the sample ended at the first space, which it would otherwise have written.
      stop: Option.match(stopText, {
        onNone: () => false,
        onSome: (choice) =>
          choice !== undefined && !(choice.message.content ?? "").includes(" ") && choice.finish_reason === "stop",
      }),
      continuation: false,
      constrainedChoice: choiceField,
    } satisfies Capabilities
  })

type ChoiceField = Exclude<ConstrainedChoice, "none">

const constraintOf = (field: ChoiceField): Partial<ChatRequest> =>
  field === "guided_choice" ? { guided_choice: PROBE_CHOICES } : { structured_outputs: { choice: PROBE_CHOICES } }

/**
 * Which choice field a vLLM server honours, by asking: a tiny request (four tokens) with the field its version
 * suggests, then, if the answer came back unconstrained, the other one. Its status says nothing (vLLM accepts and
 * ignores unknown fields with 200, protocol.py `extra="allow"`); only an answer that is exactly one of the choices
 * does. A probe that got no answer leaves the guess standing (the judge still notices a free-text answer).
 */
const probeChoiceField = (target: ServerTarget & { readonly model: string }, guess: ChoiceField) =>
  Effect.gen(function* () {
    const client = yield* OpenAiClient
    const tryField = (field: ChoiceField) =>
      client
        .chat(
          { ...target, kind: "vllm" },
          { messages: user("Pick one."), max_tokens: 4, ...constraintOf(field) },
          { requestId: `stagebeam-probe-${field}`, timeout: CHAT_TIMEOUT, raw: true },
        )
        .pipe(
          Effect.map((completion) =>
            PROBE_CHOICES.includes((completion.choices[0]?.message.content ?? "").trim())
              ? ("constrained" as const)
              : ("ignored" as const),
          ),
          Effect.orElseSucceed(() => "unanswered" as const),
        )
    const first = yield* tryField(guess)
    if (first !== "ignored") return { constrainedChoice: guess, ignoredFields: [] as ReadonlyArray<string> }
    const other: ChoiceField = guess === "guided_choice" ? "structured_outputs" : "guided_choice"
    const second = yield* tryField(other)
    return second === "constrained"
      ? { constrainedChoice: other, ignoredFields: [guess] }
      : { constrainedChoice: "none" as const, ignoredFields: second === "ignored" ? [guess, other] : [guess] }
  })

/**
 * A priority probe that failed without an answer (refused connection, 429, 5xx, an unreadable body) is asked again.
 * Not one that timed out: the gateway's ports open only once every server is probed, and a server that hangs has
 * already cost its 10 s.
 */
const PRIORITY_PROBE_RETRIES = Schedule.exponential(Duration.millis(250)).pipe(Schedule.upTo({ times: 3 }))

/**
 * vLLM refuses a non-zero `priority` (400) unless it runs `--scheduling-policy priority`: one request of one token
 * tells which (a refused one never reaches the GPU). A refusal (any 4xx but 429) means "no priority"; a transient
 * failure is retried, so a busy or restarting server is not left without priorities (which would turn them off for its
 * whole pool) until it rejoins.
 */
const probePriority = (target: ServerTarget & { readonly model: string }) =>
  Effect.gen(function* () {
    const client = yield* OpenAiClient
    const answer = yield* client
      .chat(
        { ...target, kind: "vllm" },
        // Negative: ahead of whatever the server runs, so the answer is quick where priority is on.
        { messages: user("Say hello."), max_tokens: 1, priority: -1 },
        { requestId: "stagebeam-probe-priority", timeout: CHAT_TIMEOUT, raw: true },
      )
      .pipe(
        Effect.retry({
          schedule: PRIORITY_PROBE_RETRIES,
          while: (error) => error.retryable && error.kind !== "timeout",
        }),
        Effect.option,
      )
    return Option.isSome(answer)
  })

/**
 * Finds out what a server is and can do: /version (vLLM), /v1/models (is the pool's model there, its context
 * length, and `owned_by`, which names vLLM and SGLang), and only for a server of unknown kind a few tiny requests.
 * Known kinds get their documented capabilities; a vLLM server is asked once whether it schedules by priority.
 */
export const probeServer = Effect.fnUntraced(function* (
  target: ServerTarget & { readonly model: string },
): Effect.fn.Return<ProbeOutcome, never, OpenAiClient> {
  const client = yield* OpenAiClient
  const [versionAnswer, modelsAnswer] = yield* Effect.all(
    [client.get(target, "/version", GET_TIMEOUT), client.get(target, "/v1/models", GET_TIMEOUT)],
    { concurrency: 2 },
  )
  if (modelsAnswer === undefined) return { _tag: "Unreachable" }
  if (modelsAnswer.status === 401 || modelsAnswer.status === 403)
    return { _tag: "KeyRefused", status: modelsAnswer.status }
  const versionJson = versionAnswer?.status === 200 ? versionAnswer.json : undefined
  const version =
    Predicate.isObject(versionJson) && "version" in versionJson && Predicate.isString(versionJson.version)
      ? versionJson.version
      : undefined
  const cards = modelsAnswer.status === 200 ? modelCards(modelsAnswer.json) : undefined
  const card = cards?.find((candidate) => candidate.id === target.model)
  if (cards !== undefined && card === undefined) {
    return { _tag: "ModelMissing", offered: cards.map((candidate) => candidate.id) }
  }
  const kind = kindOf(version, card?.owned_by)
  const capabilities: Capabilities =
    kind === "openai-compatible"
      ? yield* probeByRequests(target)
      : kind === "vllm"
        ? yield* Effect.gen(function* () {
            const documented = documentedCapabilities(kind, version)
            const priority = yield* probePriority(target)
            const choice = yield* probeChoiceField(target, documented.constrainedChoice as ChoiceField)
            return {
              ...documented,
              priority,
              constrainedChoice: choice.constrainedChoice,
              ...(choice.ignoredFields.length > 0 && { ignoredFields: choice.ignoredFields }),
            }
          })
        : documentedCapabilities(kind, version)
  const maxContext = typeof card?.max_model_len === "number" ? { maxContext: card.max_model_len } : {}
  const simulated = card?.simulated_by === undefined ? {} : { simulated: true }
  return {
    _tag: "Profiled",
    profile: { kind, version, capabilities: { ...capabilities, ...maxContext }, ...simulated },
  }
})

/** "vLLM 0.10.2", "SGLang", "an OpenAI-compatible server". */
export const describeServer = (profile: ServerProfile): string =>
  profile.kind === "vllm"
    ? `vLLM${profile.version === undefined ? "" : ` ${profile.version}`}`
    : profile.kind === "sglang"
      ? "SGLang"
      : "an OpenAI-compatible server"
