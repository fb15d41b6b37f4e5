// The self-judge of LLaVA-CoT's stage-level search: a pairwise verdict "Since [reason], I choose response [1/2]."
// and the reasoning pre-check that answers 'correct' or 'incorrect'. Neither reads the answer key: each perceives
// what a model shown the prompt can (the texts' looks, whether a conclusion follows its reasoning), through an error
// fixed per text, as sharply as the model is competent on the question, less sharply without a rationale, and with
// a position bias.
import type { Rng } from "../random.ts"
import { contentModel } from "./model.ts"
import { keyedNormal } from "./normal.ts"
import { candidateKey, committedOption, competenceLogit, leanPattern, look, sigmoid } from "./quality.ts"
import { type ParsedQuestion, parseQuestion } from "./question.ts"

export const pairwiseJudgeOpening = "Now you act as a judge, helping me determine which of the two texts I provide"
export const precheckOpening =
  "Now you act as a judge, helping me determine whether the reasoning process in the given text is correct"

export interface JudgeSettings {
  /** The fixed-accuracy judge (used when `noise` is unset): probability of preferring the response of higher merit. */
  readonly accuracy: number
  /**
   * In [-1, 1]: with probability |bias| the verdict is the favoured position (positive: response 1). Unset: the
   * content model's (contentModel.positionBias, from MT-Bench).
   */
  readonly positionBias?: number | undefined
  /**
   * The graded judge (the default): each text's merit as it perceives it carries a Gaussian error of this size, fixed
   * per text, and P(response 1) = sigmoid(sharpness × (m̃1 − m̃2)). "model": the content model's error
   * (contentModel.judgeNoise, fitted). Unset: the fixed-accuracy judge.
   */
  readonly noise?: number | "model" | undefined
}

/** The graded judge with the content model's fitted error. */
export const DEFAULT_JUDGE_NOISE = "model" as const

/** The perceived merit's error of a text, fixed per text (a judge misjudges a text the same way every time). */
const perceptionError = (text: string) => keyedNormal("judge-noise", candidateKey(text))

export interface PairwisePrompt {
  readonly question: ParsedQuestion | undefined
  readonly response1: string
  readonly response2: string
  readonly criterion: string
  /** The hint shown with the question (the chosen caption, or caption and reasoning for a conclusion). */
  readonly hint: string | undefined
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
  let hint: string | undefined
  if (qStart >= 0) {
    const afterLabel = head.slice(qStart).replace(/^Question\s*:\s*/, "")
    const hintAt = afterLabel.search(/Hint about the Question\s*:/i)
    question = parseQuestion((hintAt >= 0 ? afterLabel.slice(0, hintAt) : afterLabel).trim())
    if (hintAt >= 0) hint = afterLabel.slice(hintAt).replace(/^Hint about the Question\s*:\s*/i, "")
  }
  const response1 = text.slice(m1.index + m1[0].length, m2.index).trim()
  const response2 = text
    .slice(m2.index + m2[0].length)
    .replace(trailer, "")
    .trim()
  const criterion = /summary|caption|reasoning|conclusion/i.exec(head)?.[0]?.toLowerCase() ?? "response"
  return { question, response1, response2, criterion, hint }
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

const stagePattern = (stage: string) => new RegExp(`<${stage}>([\\s\\S]*?)(?:</${stage}>|$)`)
const innerOf = (text: string, stage: string) => stagePattern(stage).exec(text)?.[1]

/**
 * What a judge can see of a response's worth without the answer key. A whole answer: its stages' looks weighted as
 * they bear on the answer, and whether its conclusion follows its reasoning. A conclusion: whether it follows the
 * reasoning in the hint. Anything else (a summary, a caption, a reasoning, a sentence): its look.
 */
export const perceivedMerit = (text: string, question: ParsedQuestion | undefined, hint: string | undefined) => {
  const conclusion = innerOf(text, "CONCLUSION")
  const reasoning = innerOf(text, "REASONING")
  const follows = (answer: string, lean: string | undefined) =>
    lean !== undefined && committedOption(answer, question) === lean ? contentModel.consistencyMerit : 0
  if (conclusion !== undefined && reasoning !== undefined) {
    return (
      (contentModel.contextWeight * (look(innerOf(text, "SUMMARY") ?? "") + look(innerOf(text, "CAPTION") ?? ""))) / 2 +
      contentModel.reasoningWeight * look(reasoning) +
      follows(conclusion, leanPattern.exec(reasoning)?.[1])
    )
  }
  const hintLean = hint === undefined ? undefined : leanPattern.exec(hint)?.[1]
  if (hintLean !== undefined && !leanPattern.test(text) && committedOption(text, question) !== undefined) {
    return follows(text, hintLean) + 0.25 * look(text)
  }
  return look(text)
}

/**
 * How sharply this judge's belief follows a perceived difference on this question: the content model's sharpness,
 * times twice its competence on the question (a self-judge judges as well as it answers), less the rationale gap
 * when it answers without a rationale.
 */
const sharpness = (question: ParsedQuestion | undefined, rationale: boolean) =>
  contentModel.judgeSharpness *
  2 *
  (question === undefined ? 0.5 : sigmoid(competenceLogit(question, contentModel.judgeSkillBoost))) *
  (rationale ? 1 : 1 - contentModel.rationaleGap)

const noiseOf = (settings: JudgeSettings) => (settings.noise === "model" ? contentModel.judgeNoise : settings.noise)

/** The probability that the judge answers response 1, and the sampled answer. */
const decide = (prompt: PairwisePrompt, settings: JudgeSettings, rationale: boolean, rng: Rng) => {
  const m1 = perceivedMerit(prompt.response1, prompt.question, prompt.hint)
  const m2 = perceivedMerit(prompt.response2, prompt.question, prompt.hint)
  const bias = Math.max(-1, Math.min(1, settings.positionBias ?? contentModel.positionBias))
  const favoured: 1 | 2 = bias >= 0 ? 1 : 2
  // The answer's distribution: with probability |bias| the favoured position, else the judge's own belief.
  const mixed = (belief1: number) => Math.abs(bias) * (favoured === 1 ? 1 : 0) + (1 - Math.abs(bias)) * belief1
  const noise = noiseOf(settings)
  if (noise !== undefined) {
    const d = m1 + noise * perceptionError(prompt.response1) - (m2 + noise * perceptionError(prompt.response2))
    const belief1 = sigmoid(sharpness(prompt.question, rationale) * d)
    const choice: 1 | 2 = rng.next() < Math.abs(bias) ? favoured : rng.next() < belief1 ? 1 : 2
    return { choice, p1: mixed(belief1) }
  }
  const better: 1 | 2 = m1 === m2 ? (rng.next() < 0.5 ? 1 : 2) : m1 > m2 ? 1 : 2
  const worse: 1 | 2 = better === 1 ? 2 : 1
  const accuracy = Math.max(0, Math.min(1, settings.accuracy))
  const choice: 1 | 2 = rng.next() < Math.abs(bias) ? favoured : rng.next() < accuracy ? better : worse
  return { choice, p1: mixed(better === 1 ? accuracy : 1 - accuracy) }
}

/** A verdict; `rationale` false for a constrained one-label answer (no reason written before the choice). */
export const judgePair = (prompt: PairwisePrompt, settings: JudgeSettings, rng: Rng, rationale = true): Verdict => {
  const { choice, p1 } = decide(prompt, settings, rationale, rng)
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

/**
 * The pre-check sees what the reference's sees (the question, the caption as given information, the reasoning) and
 * answers from the reasoning's perceived look: P('correct') = sigmoid(precheckBias + sharpness × perceived look).
 */
export const precheck = (
  reasoning: string,
  question: ParsedQuestion | undefined,
  settings: JudgeSettings,
  rng: Rng,
): { verdict: "correct" | "incorrect"; probability: number } => {
  const noise = noiseOf(settings) ?? contentModel.judgeNoise
  const seen = look(reasoning) + noise * perceptionError(reasoning)
  const p = Math.min(0.99, Math.max(0.01, sigmoid(contentModel.precheckBias + sharpness(question, false) * seen)))
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

/** How widely a rating spreads around its centre (in rating points). */
const RATING_SPREAD = 1.2
/** Perceived merit (look units) per rating point away from the middle rating, 5. */
const MERIT_PER_POINT = 0.5

/**
 * A rating from 1 to 9 around 5 + the response's perceived merit (perceivedMerit, with the judge's error when it is
 * graded), the whole distribution given, so the logprobs of the nine digits carry the judge's uncertainty.
 */
export const rateResponse = (prompt: RatingPrompt, settings: JudgeSettings, rng: Rng) => {
  const noise = noiseOf(settings) ?? 0
  const seen = perceivedMerit(prompt.response, prompt.question, undefined) + noise * perceptionError(prompt.response)
  const centre = Math.min(9, Math.max(1, 5 + seen / MERIT_PER_POINT))
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
