// A reward model and a cross-encoder that see what the pairwise judge sees (perceivedMerit: looks, and whether a
// conclusion follows its reasoning; never the answer key), with an error fixed per text (a reward model misjudges a
// text the same way every time). Scores are spread like internlm-xcomposer2d5-7b-reward's as LLaVA-CoT's swires.py
// assumes them (mean −0.77, standard deviation 2.08), so its retrace cutoff means what it meant there.
import { perceivedMerit } from "./judge.ts"
import { keyedNormal } from "./normal.ts"
import { candidateKey } from "./quality.ts"
import type { ParsedQuestion } from "./question.ts"

export const REWARD_MEAN = -0.77
export const REWARD_STD = 2.08

/** What a scorer perceives of a response without error, in look units (about a standard normal). */
export const latentQuality = (text: string, question: ParsedQuestion | undefined): number =>
  perceivedMerit(text, question, undefined)

/**
 * A reward model's score of one response: its perceived merit, blended with a per-text error of relative size
 * `noise` (0: the quality's order exactly; 1: as much error as signal), on the reward model's scale.
 */
export const rewardScore = (text: string, question: ParsedQuestion | undefined, noise: number): number => {
  const signal = latentQuality(text, question)
  const error = keyedNormal("reward-noise", candidateKey(text))
  return REWARD_MEAN + (REWARD_STD * (signal + noise * error)) / Math.sqrt(1 + noise * noise)
}

/** A cross-encoder's relevance score in (0, 1): the same blend through a logistic, as a sequence classifier's. */
export const crossEncoderScore = (text: string, question: ParsedQuestion | undefined, noise: number): number => {
  const z = (rewardScore(text, question, noise) - REWARD_MEAN) / REWARD_STD
  return 1 / (1 + Math.exp(-1.5 * z))
}
