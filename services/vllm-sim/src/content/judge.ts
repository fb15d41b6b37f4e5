// The self-judge of LLaVA-CoT's stage-level search: a pairwise verdict "Since [reason], I choose response [1/2]."
// that prefers the candidate of higher latent quality with a configured accuracy and position bias, and the
// reasoning pre-check that answers 'correct' or 'incorrect'.
import { type Rng, unitHash } from "../random.ts"
import { candidateKey, candidateQuality, contentModel } from "./quality.ts"
import { type ParsedQuestion, parseQuestion } from "./question.ts"
import { latentQuality } from "./reward.ts"

export const pairwiseJudgeOpening = "Now you act as a judge, helping me determine which of the two texts I provide"
export const precheckOpening =
  "Now you act as a judge, helping me determine whether the reasoning process in the given text is correct"

export interface JudgeSettings {
  /** The fixed-accuracy judge (used when `noise` is unset): probability of preferring the higher-quality response. */
  readonly accuracy: number
  /** In [-1, 1]: with probability |bias| the verdict is the favoured position (positive: response 1). */
  readonly positionBias: number
  /**
   * The graded judge (the default, see DEFAULT_JUDGE_NOISE): its belief follows how far apart the two responses are,
   * as it perceives them: each text's quality plus a Gaussian error of this size that is fixed per text (the judge
   * misjudges a text the same way every time), and P(response 1 is better) = sigmoid(BELIEF_SHARPNESS × (q̃1 − q̃2)).
   * `accuracy` is then unused: a clear difference is judged right almost always, a close one near chance, and a
   * verdict's logprob margin says which. Unset: the fixed-accuracy judge.
   */
  readonly noise?: number | undefined
}

/** How sharply the graded judge's belief follows the perceived quality difference. */
export const BELIEF_SHARPNESS = 8

/**
 * The graded judge's default error: on pairs of the synthetic set's stage candidates its sampled verdicts are right
 * 80% of the time (as the fixed-accuracy judge's default), its most likely answer 86%.
 */
export const DEFAULT_JUDGE_NOISE = 0.15

/** A standard normal number fixed by a key (Box–Muller over two keyed hashes). */
const keyedNormal = (key: string): number => {
  const u1 = Math.max(1e-12, unitHash("judge-noise-1", key))
  const u2 = unitHash("judge-noise-2", key)
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

/** The quality the graded judge perceives in a text. */
const perceived = (text: string, quality: number, noise: number) => quality + noise * keyedNormal(candidateKey(text))

export interface PairwisePrompt {
  readonly question: ParsedQuestion | undefined
  readonly response1: string
  readonly response2: string
  readonly criterion: string
}

const response1Marker = /Re(?:sp|ps)onse 1\s*:/i
const response2Marker = /Re(?:sp|ps)onse 2\s*:/i
/**
 * Instructions that may follow the second response in the prompt and are not part of it (LLaVA-CoT's judge prompt
 * recalls the criterion after the responses; for reasoning that paragraph begins "Begin by thoroughly reviewing").
 */
const trailer =
  /\n\s*(?:Please|Output format|Format|Note|Requirements?|Answer format|Your answer|Since \[reason\]|Strictly|Begin by thoroughly reviewing)[^\n]*[\s\S]*$/i

export const parsePairwisePrompt = (text: string): PairwisePrompt | undefined => {
  const m1 = response1Marker.exec(text)
  const m2 = response2Marker.exec(text)
  if (m1 === null || m2 === null || m2.index < m1.index) return undefined
  const head = text.slice(0, m1.index)
  const qStart = head.search(/Question\s*:/)
  let question: ParsedQuestion | undefined
  if (qStart >= 0) {
    const afterLabel = head.slice(qStart).replace(/^Question\s*:\s*/, "")
    const hintAt = afterLabel.search(/Hint about the Question\s*:/i)
    question = parseQuestion((hintAt >= 0 ? afterLabel.slice(0, hintAt) : afterLabel).trim())
  }
  const response1 = text.slice(m1.index + m1[0].length, m2.index).trim()
  const response2 = text
    .slice(m2.index + m2[0].length)
    .replace(trailer, "")
    .trim()
  const criterion = /summary|caption|reasoning|conclusion/i.exec(head)?.[0]?.toLowerCase() ?? "response"
  return { question, response1, response2, criterion }
}

const reasons: Record<string, ReadonlyArray<string>> = {
  summary: ["outlines a clearer plan for approaching the problem", "better explains how to solve the question"],
  caption: [
    "describes the question-relevant content of the image more accurately",
    "has fewer errors in its description",
  ],
  reasoning: [
    "reasons more carefully with fewer errors",
    "its reasoning is more consistent with the image description",
  ],
  conclusion: ["gives a conclusion more consistent with the reasoning", "answers the question more effectively"],
  response: ["is more accurate and helpful", "answers the question better"],
}

export interface Verdict {
  /** 1 or 2. */
  readonly choice: 1 | 2
  /** The judge's probability of that choice (for logprobs). */
  readonly probability: number
  readonly text: string
}

/** The probability that the judge answers response 1, and the sampled answer. */
const decide = (prompt: PairwisePrompt, settings: JudgeSettings, rng: Rng) => {
  const q1 = candidateQuality(prompt.response1, prompt.question)
  const q2 = candidateQuality(prompt.response2, prompt.question)
  const bias = Math.max(-1, Math.min(1, settings.positionBias))
  const favoured: 1 | 2 = bias >= 0 ? 1 : 2
  // The answer's distribution: with probability |bias| the favoured position, else the judge's own belief.
  const mixed = (belief1: number) => Math.abs(bias) * (favoured === 1 ? 1 : 0) + (1 - Math.abs(bias)) * belief1
  if (settings.noise !== undefined) {
    const d = perceived(prompt.response1, q1, settings.noise) - perceived(prompt.response2, q2, settings.noise)
    const belief1 = 1 / (1 + Math.exp(-BELIEF_SHARPNESS * d))
    const choice: 1 | 2 = rng.next() < Math.abs(bias) ? favoured : rng.next() < belief1 ? 1 : 2
    return { choice, p1: mixed(belief1) }
  }
  const better: 1 | 2 = q1 === q2 ? (rng.next() < 0.5 ? 1 : 2) : q1 > q2 ? 1 : 2
  const worse: 1 | 2 = better === 1 ? 2 : 1
  const accuracy = Math.max(0, Math.min(1, settings.accuracy))
  const choice: 1 | 2 = rng.next() < Math.abs(bias) ? favoured : rng.next() < accuracy ? better : worse
  return { choice, p1: mixed(better === 1 ? accuracy : 1 - accuracy) }
}

export const judgePair = (prompt: PairwisePrompt, settings: JudgeSettings, rng: Rng): Verdict => {
  const { choice, p1 } = decide(prompt, settings, rng)
  // The logprob of the answer given is that of its distribution (position bias included).
  const probability = choice === 1 ? p1 : 1 - p1
  const reason = rng.pick(reasons[prompt.criterion] ?? reasons.response!)
  return {
    choice,
    probability: Math.min(0.999, Math.max(0.001, probability)),
    text: `Since response ${choice} ${reason}, I choose response ${choice}.`,
  }
}

export const parsePrecheck = (text: string): string | undefined => {
  const m = /Reasoning Process\s*:\s*([\s\S]*)$/i.exec(text)
  if (m === null) return undefined
  return m[1]!.replace(trailer, "").trim()
}

export const precheck = (reasoning: string, rng: Rng): { verdict: "correct" | "incorrect"; probability: number } => {
  const p = Math.min(0.98, contentModel.precheckBase + contentModel.precheckSlope * candidateQuality(reasoning))
  const correct = rng.next() < p
  return { verdict: correct ? "correct" : "incorrect", probability: correct ? p : 1 - p }
}

// A pointwise rating prompt: "Now you act as a judge, helping me rate how well the text I provide …", with
// `Question:`, an optional `Hint about the Question:`, `Response:`, and an output format asking for one digit 1–9.
export const ratingOpening = "Now you act as a judge, helping me rate how well the text I provide"

export interface RatingPrompt {
  readonly question: ParsedQuestion | undefined
  readonly response: string
}

export const parseRatingPrompt = (text: string): RatingPrompt | undefined => {
  const marker = /\nResponse\s*:/.exec(text)
  if (marker === null) return undefined
  const head = text.slice(0, marker.index)
  const qStart = head.search(/Question\s*:/)
  let question: ParsedQuestion | undefined
  if (qStart >= 0) {
    const afterLabel = head.slice(qStart).replace(/^Question\s*:\s*/, "")
    const hintAt = afterLabel.search(/Hint about the Question\s*:/i)
    question = parseQuestion((hintAt >= 0 ? afterLabel.slice(0, hintAt) : afterLabel).trim())
  }
  const response = text
    .slice(marker.index + marker[0].length)
    .replace(trailer, "")
    .trim()
  return { question, response }
}

/** How widely a rating spreads around 1 + 8 × quality (in rating points). */
const RATING_SPREAD = 1.2

/**
 * A rating from 1 to 9 around 1 + 8 × the response's quality (as the graded judge perceives it when `noise` is set),
 * the whole distribution given, so the logprobs of the nine digits carry the judge's uncertainty.
 */
export const rateResponse = (prompt: RatingPrompt, settings: JudgeSettings, rng: Rng) => {
  // A whole answer is as good as its conclusion, as the reward model sees it.
  const quality = latentQuality(prompt.response, prompt.question)
  const seen = settings.noise === undefined ? quality : perceived(prompt.response, quality, settings.noise)
  const centre = 1 + 8 * Math.min(1, Math.max(0, seen))
  const weights = Array.from({ length: 9 }, (_, k) => Math.exp(-((k + 1 - centre) ** 2) / (2 * RATING_SPREAD ** 2)))
  const total = weights.reduce((a, b) => a + b, 0)
  const probabilities = weights.map((w) => w / total)
  let u = rng.next()
  let rating = 9
  for (let k = 0; k < 9; k++) {
    u -= probabilities[k]!
    if (u < 0) {
      rating = k + 1
      break
    }
  }
  return { rating, probabilities }
}
