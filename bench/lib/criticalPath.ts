import type { Strategy, Tournament } from "@stagebeam/cot"

export interface CriticalPathInput {
  readonly strategy: Strategy
  readonly tournament: Tournament
  readonly candidates: number
  /** Latency of one generation call (n samples in parallel on one server). */
  readonly generationMs: number
  /** Latency of one judge call. */
  readonly judgeMs: number
  /** SENTENCE_BEAM: sentences searched (each one a generation and a tournament). */
  readonly sentences?: number
}

/** Rounds a tournament over `n` distinct candidates needs: ⌈log₂ n⌉ parallel rounds, or n − 1 one after the other. */
export const tournamentDepth = (tournament: Tournament, n: number): number =>
  n <= 1 ? 0 : tournament === "KNOCKOUT" ? Math.ceil(Math.log2(n)) : n - 1

/**
 * The shortest possible latency of a search given fixed call latencies and unlimited servers: each step is one
 * generation call followed by its tournament's rounds (all candidates assumed distinct and valid).
 */
export const criticalPathMs = (input: CriticalPathInput): number => {
  const step = input.generationMs + tournamentDepth(input.tournament, input.candidates) * input.judgeMs
  switch (input.strategy) {
    case "STAGE_BEAM":
      return 4 * step
    case "BEST_OF_N":
      return step
    case "SENTENCE_BEAM":
      return (input.sentences ?? 1) * step
    case "GREEDY":
      return input.generationMs
    case "SWIRES":
      // One pass without a retrace: summary, captions, (scores), reasonings, (scores), conclusions, (score).
      return 4 * input.generationMs + 3 * input.judgeMs
  }
}
