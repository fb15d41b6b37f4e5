import {
  correctnessMessages,
  DEFAULTS,
  judgeMessages,
  parseCorrectness,
  parseVerdict,
  REFERENCE_TOP_K,
  type Sampling,
  VERDICT_LABELS,
} from "@stagebeam/cot"
import {
  type Capabilities,
  type ChatRequest,
  type ChatResult,
  choiceConstraint,
  inSpan,
  type Pool,
  type TokenLogprob,
} from "@stagebeam/fleet"
import type { CorrectnessInput, MatchInput, PairwiseJudging, Verdict } from "@stagebeam/search"
import { Effect } from "effect"
import {
  criticalPathPriority,
  type JudgeDeclaration,
  type JudgeKind,
  type JudgeOptions,
  seesImage,
} from "./JudgeKind.ts"

/** The reference samples verdicts like answers (0.6 / 0.9 / 2048 tokens, HF generate's top_k 50). */
const REFERENCE_SAMPLING: Sampling = {
  temperature: DEFAULTS.temperature,
  topP: DEFAULTS.topP,
  maxTokens: DEFAULTS.maxTokens,
  topK: REFERENCE_TOP_K,
}

/**
 * A CHOICE verdict is one label, and a label ("1", "2") is one token: with one token allowed the call ends with the
 * prefill step that writes it, instead of waiting a decode step (and behind any other request's prefill) for the
 * end of the turn. Its logprobs are the verdict's margin.
 */
const CHOICE_MAX_TOKENS = 1
/**
 * The most tokens a free-text verdict may take. The reference asks for one sentence, "Since [reason], I choose response
 * [1/2]." (its fixed words are ~10 tokens, a reason clause rarely 40); 128 leaves three times that for the reason and
 * stops a model that rambles after ~128 decode steps (~2.5 s at ~20 ms a token) instead of the reference's 2048
 * (~40 s). A sentence cut there names no response (finish_reason "length"), which decideVerdict already handles.
 */
export const FREE_TEXT_VERDICT_MAX_TOKENS = 128
/** Alternatives asked for with each CHOICE verdict's logprobs: enough to hold the other label. */
const CHOICE_TOP_LOGPROBS = 5
/**
 * A CHOICE verdict is read from its logprobs, not from the label sampled, so it is asked at temperature 1 and top_p 1:
 * vLLM's V0 engine (0.10, the one that serves mllama) returns logprobs after temperature and top-p, which would scale
 * the margin by 1/temperature and cut the losing label to −inf (reported as −9999).
 */
const CHOICE_SAMPLING = { temperature: 1, topP: 1 } as const
/** vLLM reports a token outside the kept set as −9999: no evidence of its own, read as absent. */
const CUT_LOGPROB = -9000
/** A margin is the log-odds between the labels; beyond this it says nothing more (and one verdict must not drown K). */
const MAX_MARGIN = 20

const firstText = (result: ChatResult): string => result.completion.choices[0]?.message.content ?? ""

const isLabel = (raw: string) => (VERDICT_LABELS as ReadonlyArray<string>).includes(raw.trim())

type ServiceFailureOf<P extends Pool> = Effect.Error<ReturnType<P["complete"]>>

/** Marks counts the server did not report (the pool estimated them). */
const estimated = (result: ChatResult) => (result.completion.usage.estimated === true ? { tokensEstimated: true } : {})

/** The logprob of each label as the first token of the answer, where the server gave it. */
const labelLogprobs = (first: TokenLogprob | undefined): ReadonlyArray<number | undefined> =>
  VERDICT_LABELS.map((label) => {
    if (first === undefined) return undefined
    const alternatives = [{ token: first.token, logprob: first.logprob }, ...(first.top_logprobs ?? [])]
    const logprob = alternatives.find((entry) => entry.token.trim() === label)?.logprob
    return logprob === undefined || logprob <= CUT_LOGPROB ? undefined : logprob
  })

/**
 * A CHOICE verdict read from the label and its logprobs: the label with the higher logprob wins, by that margin (a
 * tie names neither); without both labels' logprobs, the label given, its margin from its own probability when known
 * (the two labels share the mass). An answer that is no label (a server that ignored the constraint) is read as
 * free text.
 */
export const readChoice = (
  raw: string,
  first: TokenLogprob | undefined,
): { readonly winner: 0 | 1; readonly explicit: boolean; readonly margin?: number } => {
  const [one, two] = labelLogprobs(first)
  if (one !== undefined && two !== undefined) {
    return { winner: one >= two ? 0 : 1, explicit: one !== two, margin: Math.min(MAX_MARGIN, Math.abs(one - two)) }
  }
  const label = raw.trim()
  const index = VERDICT_LABELS.indexOf(label as (typeof VERDICT_LABELS)[number])
  if (index === -1) return parseVerdict(raw)
  const own = index === 0 ? one : two
  const p = own === undefined ? undefined : Math.min(1 - 1e-9, Math.exp(own))
  return {
    winner: index as 0 | 1,
    explicit: true,
    ...(p === undefined ? {} : { margin: Math.min(MAX_MARGIN, Math.abs(Math.log(p / (1 - p)))) }),
  }
}

/**
 * A judge that asks a chat model on a pool, with the reference's prompts, which of two responses is better.
 * Over the generator's pool it is the paper's self-judge; over another pool it is a separate judge model, another
 * vLLM or SGLang server, or a hosted OpenAI-compatible API. A match that asks for CHOICE gets the answer constrained
 * to the two labels (the field the pool's servers take: guided_choice or structured_outputs) in a few tokens, with
 * logprobs for the margin; a pool without a choice field, or a judge declared `verdicts: free_text`, answers in the
 * reference's sentence. A failed call fails with the pool's own error (server, kind, status), kept whole.
 */
export const makePairwiseJudge = (
  pool: Pool,
  options: JudgeOptions & { readonly sampling?: Sampling } = {},
  declaration: JudgeDeclaration = { name: pool.name, kind: "pairwise", pool: pool.name, options },
): PairwiseJudging => {
  const sampling = options.sampling ?? REFERENCE_SAMPLING
  /** One call; `capabilities` as the caller read them (once per call). */
  const ask = (
    capabilities: Capabilities,
    request: Omit<ChatRequest, "temperature" | "top_p" | "max_tokens">,
    kind: string,
    choice?: { readonly maxTokens: number },
    maxTokens?: number,
  ) =>
    pool.complete(
      {
        ...request,
        temperature: choice === undefined ? sampling.temperature : CHOICE_SAMPLING.temperature,
        top_p: choice === undefined ? sampling.topP : CHOICE_SAMPLING.topP,
        ...(choice === undefined && sampling.topK !== undefined ? { top_k: sampling.topK } : {}),
        max_tokens: choice?.maxTokens ?? Math.min(sampling.maxTokens, maxTokens ?? sampling.maxTokens),
        ...criticalPathPriority(capabilities),
      },
      { label: `judge-${kind.toLowerCase()}` },
    )

  // Set once a server answered a constrained verdict with something else than a label (it ignored the field, e.g. a
  // server that was not probed yet): from then on this judge asks in free text.
  let constraintIgnored = false
  /** What this judge can answer over these servers: the one rule, for the search to choose by and as a guard here. */
  const canChoose = (capabilities: Capabilities) =>
    options.verdicts !== "free_text" && capabilities.constrainedChoice !== "none" && !constraintIgnored
  // The search chose the mode (from `capabilities`); a server found ignoring the constraint since answers free text.
  const modeFor = (match: MatchInput, capabilities: Capabilities) =>
    match.verdict === "CHOICE" && canChoose(capabilities) ? ("CHOICE" as const) : ("FREE_TEXT" as const)

  /**
   * One verdict with the responses in the match's order; a free-text verdict cut off by length names no response. A
   * judge pool that takes no images (or a declaration that hides them for this kind) is shown the texts only.
   */
  const askVerdict: (match: MatchInput) => Effect.Effect<Verdict, ServiceFailureOf<typeof pool>> = Effect.fnUntraced(
    function* (match: MatchInput) {
      const capabilities = yield* pool.capabilities
      const mode = modeFor(match, capabilities)
      const shown = {
        question: match.question,
        hint: match.hint,
        first: match.first,
        second: match.second,
        imageUrl: capabilities.images && seesImage(declaration, match.kind) ? match.imageUrl : undefined,
      }
      const messages = judgeMessages(match.kind, shown, match.wording, mode)
      const result =
        mode === "CHOICE"
          ? yield* ask(
              capabilities,
              {
                messages,
                seed: match.seed,
                ...choiceConstraint(capabilities, VERDICT_LABELS),
                ...(capabilities.logprobs && { logprobs: true, top_logprobs: CHOICE_TOP_LOGPROBS }),
              },
              match.kind,
              { maxTokens: CHOICE_MAX_TOKENS },
            )
          : yield* ask(
              capabilities,
              { messages, seed: match.seed },
              match.kind,
              undefined,
              FREE_TEXT_VERDICT_MAX_TOKENS,
            )
      const raw = firstText(result)
      const choice = result.completion.choices[0]
      const cost = {
        server: result.server,
        promptTokens: result.completion.usage.prompt_tokens,
        completionTokens: result.completion.usage.completion_tokens,
        ...estimated(result),
      }
      if (mode === "CHOICE" && !isLabel(raw)) {
        // The server ignored the constraint (its first tokens of a sentence are no verdict): ask again in free text.
        constraintIgnored = true
        yield* Effect.logWarning(
          `judge pool ${pool.name}: ${result.server} answered a constrained verdict with free text; asking in free text from now on`,
        )
        const again = yield* askVerdict(match)
        return {
          ...again,
          promptTokens: again.promptTokens + cost.promptTokens,
          completionTokens: again.completionTokens + cost.completionTokens,
          calls: (again.calls ?? 1) + 1,
        }
      }
      const read = mode === "CHOICE" ? readChoice(raw, choice?.logprobs?.[0]) : parseVerdict(raw)
      const complete = choice?.finish_reason !== "length" || mode === "CHOICE"
      return { ...read, explicit: read.explicit && complete, raw, mode, ...cost } satisfies Verdict
    },
  )

  /** One verdict as the judge answered it; what follows a verdict naming neither response is the search's rule. */
  // Spans without the stack capture of Effect.fn: these run for every judge call (issue #24).
  const compare = Effect.fnUntraced(function* (match: MatchInput) {
    return yield* askVerdict(match)
  }, inSpan("PairwiseJudge.compare"))

  const checkReasoning = Effect.fnUntraced(function* (input: CorrectnessInput) {
    const result = yield* ask(
      yield* pool.capabilities,
      {
        messages: correctnessMessages({ hint: input.hint, reasoning: input.reasoning }, input.wording),
        seed: input.seed,
      },
      "check",
    )
    const raw = firstText(result)
    return {
      correct: parseCorrectness(raw).correct,
      raw,
      server: result.server,
      promptTokens: result.completion.usage.prompt_tokens,
      completionTokens: result.completion.usage.completion_tokens,
      ...estimated(result),
    }
  }, inSpan("PairwiseJudge.checkReasoning"))

  const capabilities = Effect.map(pool.capabilities, (served) => ({ choice: canChoose(served) }))
  return { compare, checkReasoning, capabilities }
}

/** `kind: pairwise`: a chat model asked which of two responses is better (options: verdicts, images). */
export const pairwiseKind: JudgeKind = {
  name: "pairwise",
  judging: "pairwise",
  make: (pool, declaration) => Effect.succeed(makePairwiseJudge(pool, declaration.options ?? {}, declaration)),
}
