// The self-judge of LLaVA-CoT's stage-level search: a pairwise verdict "Since [reason], I choose response [1/2]."
// that prefers the candidate of higher latent quality with a configured accuracy and position bias, and the
// reasoning pre-check that answers 'correct' or 'incorrect'.
import type { Rng } from "../random.ts"
import { candidateQuality, contentModel } from "./quality.ts"
import { type ParsedQuestion, parseQuestion } from "./question.ts"

export const pairwiseJudgeOpening = "Now you act as a judge, helping me determine which of the two texts I provide"
export const precheckOpening =
  "Now you act as a judge, helping me determine whether the reasoning process in the given text is correct"

export interface JudgeSettings {
  /** Probability of preferring the higher-quality response when no position bias applies. */
  readonly accuracy: number
  /** In [-1, 1]: with probability |bias| the verdict is the favoured position (positive: response 1). */
  readonly positionBias: number
}

export interface PairwisePrompt {
  readonly question: ParsedQuestion | undefined
  readonly response1: string
  readonly response2: string
  readonly criterion: string
}

const response1Marker = /Re(?:sp|ps)onse 1\s*:/i
const response2Marker = /Re(?:sp|ps)onse 2\s*:/i
/** Instructions that may follow the second response in the prompt and are not part of it. */
const trailer =
  /\n\s*(?:Please|Output format|Format|Note|Requirements?|Answer format|Your answer|Since \[reason\]|Strictly)[^\n]*[\s\S]*$/i

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

export const judgePair = (prompt: PairwisePrompt, settings: JudgeSettings, rng: Rng): Verdict => {
  const q1 = candidateQuality(prompt.response1, prompt.question)
  const q2 = candidateQuality(prompt.response2, prompt.question)
  const better: 1 | 2 = q1 === q2 ? (rng.next() < 0.5 ? 1 : 2) : q1 > q2 ? 1 : 2
  const worse: 1 | 2 = better === 1 ? 2 : 1
  const bias = Math.max(-1, Math.min(1, settings.positionBias))
  const favoured: 1 | 2 = bias >= 0 ? 1 : 2
  const accuracy = Math.max(0, Math.min(1, settings.accuracy))
  // Overall probability of choosing response 1, for the logprob of the verdict.
  const pBetter = Math.abs(bias) * (favoured === better ? 1 : 0) + (1 - Math.abs(bias)) * accuracy
  let choice: 1 | 2
  if (rng.next() < Math.abs(bias)) choice = favoured
  else choice = rng.next() < accuracy ? better : worse
  const probability = choice === better ? pBetter : 1 - pBetter
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
