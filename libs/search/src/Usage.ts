import type { Usage } from "./Events.ts"

/** What a search's calls cost so far, added up as they finish. */
export interface UsageCounter {
  readonly generation: (cost: { readonly promptTokens: number; readonly completionTokens: number }) => void
  /** A verdict; `calls` is how many judge calls it took (a re-ask makes two). */
  readonly verdict: (cost: {
    readonly promptTokens: number
    readonly completionTokens: number
    readonly calls: number
  }) => void
  readonly check: (cost: { readonly promptTokens: number; readonly completionTokens: number }) => void
  readonly completionTokens: () => number
  readonly snapshot: () => Usage
}

export const makeUsage = (): UsageCounter => {
  let promptTokens = 0
  let completionTokens = 0
  let generationCalls = 0
  let judgeCalls = 0
  let correctnessChecks = 0
  const tokens = (cost: { readonly promptTokens: number; readonly completionTokens: number }) => {
    promptTokens += cost.promptTokens
    completionTokens += cost.completionTokens
  }
  return {
    generation: (cost) => {
      generationCalls++
      tokens(cost)
    },
    verdict: (cost) => {
      judgeCalls += cost.calls
      tokens(cost)
    },
    check: (cost) => {
      correctnessChecks++
      tokens(cost)
    },
    completionTokens: () => completionTokens,
    snapshot: () => ({ promptTokens, completionTokens, generationCalls, judgeCalls, correctnessChecks }),
  }
}
