import { closeTag, STAGES, type Stage } from "@stagebeam/cot"
import { Clock, Effect, Layer } from "effect"
import { deriveSeed } from "./Seeds.ts"
import {
  CandidateGenerator,
  type CorrectnessInput,
  type GeneratedText,
  type GenerationRequest,
  Judge,
  type MatchInput,
} from "./Services.ts"

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
      const samples = Array.from({ length: request.n }, (_, index): GeneratedText => {
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
}

export interface LoggedMatch {
  readonly match: MatchInput
  readonly startedAtMs: number
  readonly endedAtMs: number
}

export const makeFakeJudge = (options: FakeJudgeOptions = {}) => {
  const matches: Array<LoggedMatch> = []
  const checks: Array<CorrectnessInput> = []
  const compare = (match: MatchInput) =>
    Effect.gen(function* () {
      const startedAtMs = yield* Clock.currentTimeMillis
      if (options.latencyMs !== undefined) yield* Effect.sleep(options.latencyMs)
      const winner = deriveSeed(match.seed, match.first, match.second) % 2 === 0 ? (0 as const) : (1 as const)
      const raw = options.raw?.(match, winner) ?? `Since it is more precise, I choose response ${winner + 1}.`
      matches.push({ match, startedAtMs, endedAtMs: yield* Clock.currentTimeMillis })
      const explicit = raw.includes(`I choose response ${winner + 1}`)
      return { winner, raw, explicit, server: "judge-0", promptTokens: 50, completionTokens: 10 }
    })
  const checkReasoning = (input: CorrectnessInput) =>
    Effect.gen(function* () {
      if (options.latencyMs !== undefined) yield* Effect.sleep(options.latencyMs)
      checks.push(input)
      const correct = !(options.incorrect?.(input.reasoning) ?? false)
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
