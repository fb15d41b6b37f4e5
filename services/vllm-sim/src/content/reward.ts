// A reward model and a cross-encoder over the same latent quality the judge compares: a scalar per (question,
// response) that follows the response's quality, with an error fixed per text (a reward model misjudges a text the
// same way every time). Scores are spread like internlm-xcomposer2d5-7b-reward's as LLaVA-CoT's swires.py assumes
// them (mean −0.77, standard deviation 2.08), so its retrace cutoff means what it meant there.
import { unitHash } from "../random.ts"
import { candidateKey, candidateQuality } from "./quality.ts"
import type { ParsedQuestion } from "./question.ts"

export const REWARD_MEAN = -0.77
export const REWARD_STD = 2.08

/** Standard deviation of a uniform [0, 1) quality, to put it on the scale of a standard normal. */
const UNIFORM_SD = Math.sqrt(1 / 12)

const keyedNormal = (key: string): number => {
  const u1 = Math.max(1e-12, unitHash("reward-noise-1", key))
  const u2 = unitHash("reward-noise-2", key)
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

const conclusionPattern = /<CONCLUSION>([\s\S]*?)<\/CONCLUSION>/

/**
 * The latent quality a scorer sees in a response: a whole answer (it has a complete conclusion) is as good as its
 * conclusion; anything else (a stage's inner text, a sentence) is its own quality, as the pairwise judge sees it.
 */
export const latentQuality = (text: string, question: ParsedQuestion | undefined): number => {
  const conclusion = conclusionPattern.exec(text)?.[1]
  return candidateQuality(conclusion ?? text, question)
}

/**
 * A reward model's score of one response: the quality standardised, blended with a per-text error of relative size
 * `noise` (0: the quality's order exactly; 1: as much error as signal), on the reward model's scale.
 */
export const rewardScore = (text: string, question: ParsedQuestion | undefined, noise: number): number => {
  const signal = (latentQuality(text, question) - 0.5) / UNIFORM_SD
  const error = keyedNormal(candidateKey(text))
  return REWARD_MEAN + (REWARD_STD * (signal + noise * error)) / Math.sqrt(1 + noise * noise)
}

/** A cross-encoder's relevance score in (0, 1): the same blend through a logistic, as a sequence classifier's. */
export const crossEncoderScore = (text: string, question: ParsedQuestion | undefined, noise: number): number => {
  const z = (rewardScore(text, question, noise) - REWARD_MEAN) / REWARD_STD
  return 1 / (1 + Math.exp(-1.5 * z))
}
