import { continuationPrefix } from "@stagebeam/cot"
import { toWire } from "@stagebeam/proto"
import type { SearchEvent } from "@stagebeam/search"
import type { Answered } from "../Reasoning.ts"
import { toProtoEvent, toProtoSelection } from "../ToProto.ts"

/**
 * OpenAI's chat completion objects for a search's answer: the conclusion is `content`, the hidden stages (the
 * chosen text before `<CONCLUSION>`, tags included) are `reasoning_content`, as vLLM's reasoning parsers and
 * DeepSeek's API put a model's thinking; what the search did is under the extra field `stagebeam`.
 */

const CONCLUSION_TAG = "<CONCLUSION>"

/** The hidden part of an answer's text: everything before the conclusion, trimmed. */
export const reasoningOf = (text: string): string => {
  const at = text.indexOf(CONCLUSION_TAG)
  return (at === -1 ? text : text.slice(0, at)).trim()
}

export interface CompletionIdentity {
  readonly id: string
  readonly created: number
  readonly model: string
}

const usageOf = ({ result }: Answered) => ({
  prompt_tokens: result.usage.promptTokens,
  completion_tokens: result.usage.completionTokens,
  total_tokens: result.usage.promptTokens + result.usage.completionTokens,
})

/**
 * What the search did, for clients that look (OpenAI's clients ignore unknown fields); the selection and the trace
 * are the gRPC door's messages, in the HTTP door's convention (snake_case, numbers).
 */
const stagebeamOf = (answered: Answered, includeTrace: boolean) => {
  const { result, command, elapsedMs, judgedBy: context } = answered
  return toWire({
    strategy: result.strategy,
    tournament: result.tournament,
    candidates: command.search.candidates,
    seed: result.seed,
    elapsed_ms: Math.round(elapsedMs),
    generation_calls: result.usage.generationCalls,
    judge_calls: result.usage.judgeCalls,
    correctness_checks: result.usage.correctnessChecks,
    tokens_estimated: result.usage.tokensEstimated,
    truncated_reason: result.cutShort?.reason ?? null,
    truncated_detail: result.cutShort?.detail ?? null,
    selection: toProtoSelection(result.selection, context),
    stages: result.stages.map((stage) => ({ name: stage.stage, text: stage.text })),
    ...(includeTrace
      ? {
          trace: result.trace
            .filter((event) => event._tag !== "SearchFinished")
            .map((event) => toProtoEvent(event, context)),
        }
      : {}),
  })
}

/** The `chat.completion` of a non-streaming call. */
export const completionOf = (identity: CompletionIdentity, answered: Answered, includeTrace: boolean) => ({
  id: identity.id,
  object: "chat.completion",
  created: identity.created,
  model: identity.model,
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: answered.result.conclusion,
        reasoning_content: reasoningOf(answered.result.text),
      },
      logprobs: null,
      finish_reason: "stop",
    },
  ],
  usage: usageOf(answered),
  stagebeam: stagebeamOf(answered, includeTrace),
})

const chunk = (identity: CompletionIdentity, choices: ReadonlyArray<unknown>, extra: object = {}) => ({
  id: identity.id,
  object: "chat.completion.chunk",
  created: identity.created,
  model: identity.model,
  choices,
  ...extra,
})

const delta = (identity: CompletionIdentity, fields: object, finishReason: string | null = null) =>
  chunk(identity, [{ index: 0, delta: fields, logprobs: null, finish_reason: finishReason }])

/**
 * Turns a search's events into `chat.completion.chunk`s as they happen: the role first, the hidden stages as
 * `reasoning_content` deltas each time a step is chosen, and, with the answer, the conclusion as `content`, the
 * finish, and the usage (when `stream_options.include_usage`).
 */
export const makeChunker = (identity: CompletionIdentity, includeUsage: boolean) => {
  let chosen = ""
  let sentReasoning = ""
  let started = false
  const reasoningDelta = (reasoning: string) => {
    if (!reasoning.startsWith(sentReasoning) || reasoning.length === sentReasoning.length) return []
    const piece = reasoning.slice(sentReasoning.length)
    sentReasoning = reasoning
    return [delta(identity, { reasoning_content: piece })]
  }
  const start = () => {
    if (started) return []
    started = true
    return [delta(identity, { role: "assistant", content: "" })]
  }
  return {
    event: (event: SearchEvent): ReadonlyArray<object> => {
      if (event._tag !== "StepChosen") return start()
      // A stage continues after the separator its predecessor's closing token held (continuationPrefix), as the
      // search's answer does; a fixed caption brings its own.
      chosen = (/^\s/.test(event.text) ? chosen : continuationPrefix(chosen)) + event.text
      // Steps only append, so each trimmed reasoning extends the one sent before.
      return [...start(), ...reasoningDelta(reasoningOf(chosen))]
    },
    answered: (answered: Answered): ReadonlyArray<object> => [
      ...start(),
      ...reasoningDelta(reasoningOf(answered.result.text)),
      delta(identity, { content: answered.result.conclusion }),
      delta(identity, {}, "stop"),
      ...(includeUsage
        ? [chunk(identity, [], { usage: usageOf(answered), stagebeam: stagebeamOf(answered, false) })]
        : []),
    ],
  }
}
