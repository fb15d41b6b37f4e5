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
  type SampleListener,
  type ScoreInput,
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
  /**
   * When sample `index` of a call finishes, in ms after the call starts (a listener hears it then); the call returns
   * when its last sample is done. Overrides the latency options.
   */
  readonly sampleLatencyMs?: (request: GenerationRequest, index: number) => number
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
  if (request.stop.includes(".") || (request.stopTokenIds?.length ?? 0) > 0) {
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
  /** Calls that returned. */
  const log: Array<LoggedGeneration> = []
  /** Calls made (a speculative one may be interrupted before it returns). */
  const started: Array<GenerationRequest> = []
  /** When each of `started` started (Clock millis). */
  const startedAtMs: Array<number> = []
  /** Calls interrupted before they returned (an aborted upstream request). */
  const interrupted: Array<GenerationRequest> = []
  const variants = options.variants ?? 1000
  const generate = (request: GenerationRequest, onSample?: SampleListener) =>
    Effect.gen(function* () {
      started.push(request)
      const startedAt = yield* Clock.currentTimeMillis
      startedAtMs.push(startedAt)
      const byStop = request.stop.map((stop) => options.latencyByStop?.[stop]).find((ms) => ms !== undefined)
      const latencyMs = byStop ?? options.latencyMs
      const perSample = options.sampleLatencyMs
      if (perSample === undefined && latencyMs !== undefined) yield* Effect.sleep(latencyMs)
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
      if (perSample !== undefined) {
        // Each sample is heard when it is done, the call returns with the last.
        const order = samples.map((_, index) => index).sort((a, b) => perSample(request, a) - perSample(request, b))
        let elapsed = 0
        for (const index of order) {
          const at = perSample(request, index)
          if (at > elapsed) yield* Effect.sleep(at - elapsed)
          elapsed = Math.max(elapsed, at)
          onSample?.(index, samples[index]!)
        }
      } else for (const [index, sample] of samples.entries()) onSample?.(index, sample)
      log.push({ request, startedAtMs: startedAt, endedAtMs: yield* Clock.currentTimeMillis })
      return {
        samples,
        promptTokens: 100 + words(request.prefix),
        server: options.server ?? "fake-0",
        ...(options.tokensEstimated === true && { tokensEstimated: true }),
      }
    }).pipe(Effect.onInterrupt(() => Effect.sync(() => interrupted.push(request))))
  return {
    layer: Layer.succeed(CandidateGenerator, CandidateGenerator.of({ generate })),
    log,
    started,
    startedAtMs,
    interrupted,
  }
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
  /**
   * Answers CHOICE verdicts (when the match asks for them) with a logprob margin: the log-odds of the picked label,
   * from `preference` (so a margin tells how sure the judge's distribution is). Without it every verdict is free text.
   */
  readonly choice?: boolean
  /** What it tells the search it can do (absent: nothing said, it answers what is asked). */
  readonly canChoose?: boolean
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
      const pFirst = options.preference?.(shown)
      const winner =
        pFirst === undefined
          ? deriveSeed(match.seed, match.first ?? "", match.second ?? "") % 2 === 0
            ? (0 as const)
            : (1 as const)
          : picked < pFirst
            ? (0 as const)
            : (1 as const)
      if (options.choice === true && match.verdict === "CHOICE") {
        matches.push({ match, startedAtMs, endedAtMs: yield* Clock.currentTimeMillis })
        const p = Math.min(0.999, Math.max(0.001, pFirst ?? 0.5))
        const logOdds = Math.log(p / (1 - p))
        // The label with the higher logprob wins; equal logprobs are a tie, which names no response.
        const tie = unclear || logOdds === 0
        const choiceWinner = logOdds >= 0 ? (0 as const) : (1 as const)
        return {
          winner: choiceWinner,
          raw: String(choiceWinner + 1),
          explicit: !tie,
          server: "judge-0",
          promptTokens: 50,
          completionTokens: 1,
          margin: Math.abs(logOdds),
          mode: "CHOICE" as const,
        }
      }
      const raw = unclear
        ? "Both responses have their merits."
        : (options.raw?.(match, winner) ?? `Since it is more precise, I choose response ${winner + 1}.`)
      matches.push({ match, startedAtMs, endedAtMs: yield* Clock.currentTimeMillis })
      // The reference's reading: "I choose response 1" → the first, anything else → the second.
      const parsed = raw.includes("I choose response 1") ? (0 as const) : (1 as const)
      const explicit = raw.includes(`I choose response ${parsed + 1}`)
      return {
        winner: parsed,
        raw,
        explicit,
        server: "judge-0",
        promptTokens: 50,
        completionTokens: 10,
        mode: "FREE_TEXT" as const,
      }
    })
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
  return {
    layer: Layer.succeed(
      Judge,
      Judge.of({
        compare: ask,
        checkReasoning,
        ...(options.canChoose !== undefined && { capabilities: Effect.succeed({ choice: options.canChoose }) }),
      }),
    ),
    matches,
    checks,
  }
}

export interface FakeScorerOptions {
  readonly latencyMs?: number
  /** The score of one text (default: a seeded hash of the text, in [0, 1)). */
  readonly score?: (text: string, input: ScoreInput) => number
}

/** A pointwise judge (a stand-in for a reward model) that scores every text of a call at once, and logs the calls. */
export const makeFakeScorer = (options: FakeScorerOptions = {}) => {
  const calls: Array<ScoreInput> = []
  const score = (input: ScoreInput) =>
    Effect.gen(function* () {
      if (options.latencyMs !== undefined) yield* Effect.sleep(options.latencyMs)
      calls.push(input)
      return {
        scores: input.responses.map(
          (text) => options.score?.(text, input) ?? makeRng(deriveSeed(0, "fake-score", text))(),
        ),
        server: "scorer-0",
        promptTokens: 20 * input.responses.length,
        completionTokens: 0,
      }
    })
  return { layer: Layer.succeed(Judge, Judge.of({ score })), calls }
}
