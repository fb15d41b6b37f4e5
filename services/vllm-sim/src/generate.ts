// What each of a request's n samples says: LLaVA-CoT stages, a pairwise verdict, a pre-check answer, or one of the
// guided choices; then vLLM's stop-string and max_tokens rules, token ids and logprobs.
import { continueAnswer } from "./content/cot.ts"
import {
  type JudgeSettings,
  judgePair,
  pairwiseJudgeOpening,
  parsePairwisePrompt,
  parsePrecheck,
  parseRatingPrompt,
  precheck,
  precheckOpening,
  rateResponse,
  ratingOpening,
} from "./content/judge.ts"
import { parseQuestion } from "./content/question.ts"
import { answerGradingPrompt } from "./grading.ts"
import type { RenderedPrompt } from "./prompt.ts"
import { makeRng, type Rng } from "./random.ts"
import { decode, encode, tokenPieces } from "./tokens.ts"

export interface SampleOutput {
  /** Visible text of the whole completion. */
  readonly text: string
  /** Token pieces of the generated tokens (the EOS piece is ""). */
  readonly pieces: ReadonlyArray<string>
  /** Per generated token, how many characters of `text` are visible after it (stop strings are held back). */
  readonly visibleAfter: ReadonlyArray<number>
  readonly finishReason: "stop" | "length"
  readonly stopReason: string | number | null
  /** Chosen-token logprob per generated token, and the probability of a decision if the output is one. */
  readonly logprobs: ReadonlyArray<number>
  /** For a decision (a verdict, a rating): the other answers' first tokens and logprobs, most likely first. */
  readonly alternatives: ReadonlyArray<{ readonly token: string; readonly logprob: number }>
}

export interface GenerationParams {
  readonly seed: number | undefined
  /** Temperature 0 is greedy: every sample is the same, whatever the seed. */
  readonly greedy: boolean
  readonly maxTokens: number
  readonly stop: ReadonlyArray<string>
  /** stop_token_ids: the sample ends after the first of these tokens, which stays in its text. */
  readonly stopTokenIds?: ReadonlyArray<number>
  readonly includeStop: boolean
  readonly ignoreEos: boolean
  readonly guidedChoice: ReadonlyArray<string> | undefined
  readonly judge: JudgeSettings
}

interface Natural {
  readonly text: string
  /** Probability of the decision the text expresses (judge verdicts), for the first token's logprob. */
  readonly probability: number | undefined
  readonly filler: ((rng: Rng) => string) | undefined
  /** The other answers the decision could have been, with their probabilities (constrained answers only). */
  readonly alternatives?: ReadonlyArray<{ readonly text: string; readonly probability: number }>
}

/** The choices other than the one given, with the decision's remaining probability shared as the judge holds it. */
const otherChoices = (
  choices: ReadonlyArray<string>,
  given: string,
  probabilityOf: (choice: string) => number,
): ReadonlyArray<{ readonly text: string; readonly probability: number }> =>
  choices.filter((choice) => choice !== given).map((choice) => ({ text: choice, probability: probabilityOf(choice) }))

const naturalOutput = (prompt: RenderedPrompt, params: GenerationParams, rng: Rng): Natural => {
  const user = prompt.userText.trimStart()
  const graded = answerGradingPrompt(user)
  if (graded !== undefined) return { text: graded, probability: undefined, filler: undefined }
  const choices = params.guidedChoice
  if (user.startsWith(pairwiseJudgeOpening)) {
    const parsed = parsePairwisePrompt(user)
    if (parsed !== undefined) {
      // A constrained answer is a label with no rationale written before it.
      const verdict = judgePair(parsed, params.judge, rng, choices === undefined || choices.length === 0)
      if (choices !== undefined && choices.length > 0) {
        const match = choices.find((c) => c.includes(String(verdict.choice))) ?? rng.pick(choices)
        // The other label holds the rest of the verdict's probability.
        const alternatives = otherChoices(choices, match, () => (1 - verdict.probability) / (choices.length - 1))
        return { text: match, probability: verdict.probability, filler: undefined, alternatives }
      }
      return { text: verdict.text, probability: verdict.probability, filler: undefined }
    }
  }
  if (user.startsWith(ratingOpening)) {
    const parsed = parseRatingPrompt(user)
    if (parsed !== undefined) {
      const { rating, probabilities } = rateResponse(parsed, params.judge, rng)
      const digit = String(rating)
      const probabilityOf = (text: string) => probabilities[Number(text.trim()) - 1] ?? 1e-6
      if (choices !== undefined && choices.length > 0) {
        const match = choices.find((c) => c.trim() === digit) ?? rng.pick(choices)
        return {
          text: match,
          probability: probabilityOf(match),
          filler: undefined,
          alternatives: otherChoices(choices, match, probabilityOf),
        }
      }
      const digits = Array.from({ length: 9 }, (_, k) => String(k + 1))
      return {
        text: digit,
        probability: probabilityOf(digit),
        filler: undefined,
        alternatives: otherChoices(digits, digit, probabilityOf),
      }
    }
  }
  if (user.startsWith(precheckOpening)) {
    const reasoning = parsePrecheck(user)
    if (reasoning !== undefined) {
      const result = precheck(reasoning, undefined, params.judge, rng)
      if (choices !== undefined && choices.length > 0) {
        const match = choices.find((c) => c.trim().toLowerCase() === result.verdict) ?? rng.pick(choices)
        return { text: match, probability: result.probability, filler: undefined }
      }
      return { text: result.verdict, probability: result.probability, filler: undefined }
    }
  }
  if (choices !== undefined && choices.length > 0) {
    return { text: rng.pick(choices), probability: 1 / choices.length, filler: undefined }
  }
  const question = parseQuestion(prompt.questionText)
  const c = continueAnswer(question, prompt.images > 0, prompt.assistantPrefix, rng, params.greedy)
  return { text: c.text, probability: undefined, filler: c.filler }
}

/** The earliest stop string in the text (vLLM stops as soon as one completes). */
const findStop = (text: string, stops: ReadonlyArray<string>): { index: number; stop: string } | undefined => {
  let best: { index: number; stop: string } | undefined
  for (const stop of stops) {
    if (stop.length === 0) continue
    const index = text.indexOf(stop)
    if (index >= 0 && (best === undefined || index + stop.length < best.index + best.stop.length))
      best = { index, stop }
  }
  return best
}

/** The first of `stopTokenIds` in the text's tokens: the ids up to it, and where its text ends. */
const findStopToken = (text: string, stopTokenIds: ReadonlyArray<number> | undefined) => {
  if (stopTokenIds === undefined || stopTokenIds.length === 0) return undefined
  const stops = new Set(stopTokenIds)
  const ids = encode(text)
  const at = ids.findIndex((id) => stops.has(id))
  if (at < 0) return undefined
  return { id: ids[at]!, ids: ids.slice(0, at + 1), end: decode(ids.slice(0, at + 1)).length }
}

export const sampleOutput = (prompt: RenderedPrompt, params: GenerationParams, rng: Rng): SampleOutput => {
  const natural = naturalOutput(prompt, params, rng)
  let full = natural.text
  if (params.ignoreEos && natural.filler !== undefined) {
    // Keep writing past the natural end until max_tokens (benchmarks with a fixed output length).
    // Counted piece by piece: re-encoding the growing text would be quadratic.
    let count = encode(full).length
    while (count < params.maxTokens) {
      const piece = natural.filler(rng)
      full += piece
      count += encode(piece).length
    }
  }
  const stop = params.guidedChoice === undefined ? findStop(full, params.stop) : undefined
  let ids: Array<number>
  let text: string
  let finishReason: "stop" | "length"
  let stopReason: string | number | null = null
  const stopToken = params.guidedChoice === undefined ? findStopToken(full, params.stopTokenIds) : undefined
  if (stopToken !== undefined && (stop === undefined || stopToken.end <= stop.index + stop.stop.length)) {
    ids = stopToken.ids
    text = full.slice(0, stopToken.end)
    finishReason = "stop"
    stopReason = stopToken.id
  } else if (stop !== undefined) {
    ids = encode(full.slice(0, stop.index + stop.stop.length))
    text = full.slice(0, params.includeStop ? stop.index + stop.stop.length : stop.index)
    finishReason = "stop"
    stopReason = stop.stop
  } else {
    ids = encode(full)
    text = full
    finishReason = "stop"
    // The EOS token is generated (and counted) but not shown.
    if (!params.ignoreEos) ids.push(-1)
  }
  if (ids.length > params.maxTokens) {
    ids = ids.slice(0, params.maxTokens)
    text = decode(ids.filter((id) => id >= 0))
    finishReason = "length"
    stopReason = null
  } else if (params.ignoreEos && stop === undefined && ids.length === params.maxTokens) {
    // With ignore_eos nothing but a stop string or max_tokens ends a sample: reaching max_tokens is "length".
    finishReason = "length"
  }
  const pieces = tokenPieces(ids.filter((id) => id >= 0))
  if (ids[ids.length - 1] === -1) pieces.push("")
  const visibleAfter: Array<number> = []
  let seen = 0
  for (const piece of pieces) {
    seen += piece.length
    visibleAfter.push(Math.min(seen, text.length))
  }
  const logprobs = pieces.map((_, i) =>
    i === 0 && natural.probability !== undefined ? Math.log(natural.probability) : -0.6 * rng.next() ** 3,
  )
  const alternatives = (natural.alternatives ?? [])
    .map((alternative) => ({
      token: tokenPieces(encode(alternative.text))[0] ?? alternative.text,
      logprob: Math.log(Math.max(1e-9, alternative.probability)),
    }))
    .sort((a, b) => b.logprob - a.logprob)
  return { text, pieces, visibleAfter, finishReason, stopReason, logprobs, alternatives }
}

/** Independent, reproducible samples: a fixed seed gives the same n outputs for the same prompt. */
export const sampleOutputs = (
  prompt: RenderedPrompt,
  params: GenerationParams,
  n: number,
  requestEntropy: string,
): Array<SampleOutput> => {
  const content = `${prompt.imageKey}\u0000${prompt.tokenIds.length}\u0000${prompt.userText}\u0000${prompt.assistantPrefix}`
  const key = params.greedy
    ? `greedy\u0000${content}`
    : params.seed === undefined
      ? requestEntropy
      : `${params.seed}\u0000${content}`
  return Array.from({ length: n }, (_, i) =>
    sampleOutput(prompt, params, makeRng(params.greedy ? key : `${key}\u0000${i}`)),
  )
}
