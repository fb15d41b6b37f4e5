import { closeTag, STAGES, type Stage } from "@stagebeam/cot"
import { Clock, Effect, Layer } from "effect"
import { deriveSeed, makeRng } from "./Seeds.ts"
import {
  CandidateGenerator,
  type CorrectnessInput,
  type GeneratedText,
  type GenerationRequest,
  Judge,
  type MatchInput,
} from "./Services.ts"
import { decideVerdict } from "./Verdicts.ts"

/**
 * Deterministic in-memory services for tests and benchmarks: a generator that writes well-formed LLaVA-CoT text
 * (each sample's wording depends only on the call's seed and the sample's position) and a judge with a seeded
 * preference. Both sleep a fixed latency on Effect's Clock (so TestClock drives them) and log their calls.
 */

export interface FakeGeneratorOptions {
  /** Latency of every generation call, whatever n is (the server samples the n continuations in parallel). */
  readonly latencyMs?: number
  /** Latency of calls whose stop strings include a key (overrides latencyMs), e.g. a stage that hangs. */
  readonly latencyByStop?: Readonly<Record<string, number>>
  /** How many different wordings a stage can have: fewer than n gives duplicate candidates. */
  readonly variants?: number
  /** Makes sample `index` of a call broken: cut off by length, without its closing tag. */
  readonly broken?: (request: GenerationRequest, index: number) => boolean
  readonly server?: string
  /** SENTENCE_BEAM: sentences before the concluding one. */
  readonly sentences?: number
  /** Report the token counts as estimates (a server without usage blocks). */
  readonly tokensEstimated?: boolean
  /** The samples of a call, chosen by the test (n of them); undefined falls back to the generated wording. */
  readonly samples?: (request: GenerationRequest) => ReadonlyArray<GeneratedText> | undefined
}

export interface LoggedGeneration {
  readonly request: GenerationRequest
  readonly startedAtMs: number
  readonly endedAtMs: number
}

const words = (text: string) => text.split(/\s+/).filter((word) => word.length > 0).length

const stageBody = (stage: Stage, variant: number): string => {
  switch (stage) {
    case "SUMMARY":
      return `I will inspect the image and apply approach ${variant}.`
    case "CAPTION":
      return `The image shows ${variant + 2} red apples on a table.`
    case "REASONING":
      return `Counting gives ${variant + 2} apples, so option ${"ABCD"[variant % 4]} fits.`
    case "CONCLUSION":
      return `${"ABCD"[variant % 4]} (${variant})`
  }
}

const stageText = (stage: Stage, variant: number, prefix: string) =>
  `${prefix.length > 0 ? "\n\n" : ""}<${stage}>${stageBody(stage, variant)}</${stage}>`

const sampleText = (request: GenerationRequest, variant: number, sentences: number): string => {
  if (request.stop.includes(".")) {
    const done = request.prefix.split(".").length - 1
    return done < sentences
      ? `${done === 0 ? "" : " "}Step ${done} uses idea ${variant}.`
      : ` <CONCLUSION>${"ABCD"[variant % 4]}</CONCLUSION>`
  }
  const stage = STAGES.find((candidate) => request.stop.includes(closeTag(candidate))) ?? "CONCLUSION"
  if (stage === "CONCLUSION" && !request.prefix.includes("</REASONING>")) {
    // A whole answer (BEST_OF_N, GREEDY, or the completion after a cut): write every stage not yet written.
    return STAGES.filter((candidate) => !request.prefix.includes(closeTag(candidate)))
      .map((candidate, i) => stageText(candidate, variant, i === 0 ? request.prefix : "x"))
      .join("")
  }
  return stageText(stage, variant, request.prefix)
}

export const makeFakeGenerator = (options: FakeGeneratorOptions = {}) => {
  const log: Array<LoggedGeneration> = []
  const variants = options.variants ?? 1000
  const generate = (request: GenerationRequest) =>
    Effect.gen(function* () {
      const startedAtMs = yield* Clock.currentTimeMillis
      const byStop = request.stop.map((stop) => options.latencyByStop?.[stop]).find((ms) => ms !== undefined)
      const latencyMs = byStop ?? options.latencyMs
      if (latencyMs !== undefined) yield* Effect.sleep(latencyMs)
      const chosen = options.samples?.(request)
      const samples =
        chosen ??
        Array.from({ length: request.n }, (_, index): GeneratedText => {
          const text = sampleText(request, deriveSeed(request.seed, index) % variants, options.sentences ?? 2)
          if (options.broken?.(request, index)) {
            const cut = text.slice(0, Math.max(1, text.length - 6))
            return { text: cut, finishReason: "length", completionTokens: request.sampling.maxTokens }
          }
          return { text, finishReason: "stop", completionTokens: words(text) }
        })
      log.push({ request, startedAtMs, endedAtMs: yield* Clock.currentTimeMillis })
      return {
        samples,
        promptTokens: 100 + words(request.prefix),
        server: options.server ?? "fake-0",
        ...(options.tokensEstimated === true && { tokensEstimated: true }),
      }
    })
  return { layer: Layer.succeed(CandidateGenerator, CandidateGenerator.of({ generate })), log }
}

export interface FakeJudgeOptions {
  readonly latencyMs?: number
  /** Reasoning texts the pre-check calls incorrect (default: none). */
  readonly incorrect?: (reasoning: string) => boolean
  /** Raw verdict text override, e.g. garbage to test the fallback. */
  readonly raw?: (match: MatchInput, winner: 0 | 1) => string
  /**
   * A judge with a chosen bias, for distribution tests: the probability of answering "I choose response 1" given the
   * texts the prompt shows (the readable ones, in order), drawn from the call's seed. Without it the pick is a
   * deterministic hash of the seed and the texts.
   */
  readonly preference?: (shown: ReadonlyArray<string>) => number
  /** Probability that an answer names neither response (drawn from the call's seed). */
  readonly unclearRate?: number
  /** Probability that the pre-check answers "incorrect" for a reasoning (drawn from the call's seed; overrides `incorrect`). */
  readonly incorrectProbability?: (reasoning: string) => number
}

export interface LoggedMatch {
  readonly match: MatchInput
  readonly startedAtMs: number
  readonly endedAtMs: number
}

export const makeFakeJudge = (options: FakeJudgeOptions = {}) => {
  const matches: Array<LoggedMatch> = []
  const checks: Array<CorrectnessInput> = []
  const ask = (match: MatchInput) =>
    Effect.gen(function* () {
      const startedAtMs = yield* Clock.currentTimeMillis
      if (options.latencyMs !== undefined) yield* Effect.sleep(options.latencyMs)
      const shown = [match.first, match.second].filter((text): text is string => text !== undefined)
      const rng = makeRng(deriveSeed(match.seed, "fake-judge"))
      const unclear = rng() < (options.unclearRate ?? 0)
      const picked = rng()
      const winner =
        options.preference === undefined
          ? deriveSeed(match.seed, match.first ?? "", match.second ?? "") % 2 === 0
            ? (0 as const)
            : (1 as const)
          : picked < options.preference(shown)
            ? (0 as const)
            : (1 as const)
      const raw = unclear
        ? "Both responses have their merits."
        : (options.raw?.(match, winner) ?? `Since it is more precise, I choose response ${winner + 1}.`)
      matches.push({ match, startedAtMs, endedAtMs: yield* Clock.currentTimeMillis })
      // The reference's reading: "I choose response 1" → the first, anything else → the second.
      const parsed = raw.includes("I choose response 1") ? (0 as const) : (1 as const)
      const explicit = raw.includes(`I choose response ${parsed + 1}`)
      return { winner: parsed, raw, explicit, server: "judge-0", promptTokens: 50, completionTokens: 10 }
    })
  const compare = (match: MatchInput) => decideVerdict(match, ask)
  const checkReasoning = (input: CorrectnessInput) =>
    Effect.gen(function* () {
      if (options.latencyMs !== undefined) yield* Effect.sleep(options.latencyMs)
      checks.push(input)
      const correct =
        options.incorrectProbability === undefined
          ? !(options.incorrect?.(input.reasoning) ?? false)
          : makeRng(deriveSeed(input.seed, "fake-check"))() >= options.incorrectProbability(input.reasoning)
      return {
        correct,
        raw: correct ? "correct" : "incorrect",
        server: "judge-0",
        promptTokens: 40,
        completionTokens: 1,
      }
    })
  return { layer: Layer.succeed(Judge, Judge.of({ compare, checkReasoning })), matches, checks }
}
