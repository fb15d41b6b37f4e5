import type { Usage } from "./Events.ts"

/** What one call cost; `tokensEstimated` when its server reported no counts. */
export interface CallCost {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly tokensEstimated?: boolean | undefined
}

/** What a search's calls cost so far, added up as they finish. */
export interface UsageCounter {
  readonly generation: (cost: CallCost) => void
  /** A verdict; `calls` is how many judge calls it took (a re-ask makes two). */
  readonly verdict: (cost: CallCost & { readonly calls: number }) => void
  readonly check: (cost: CallCost) => void
  /** A pointwise judge's call(s). */
  readonly scoring: (cost: CallCost & { readonly calls: number }) => void
  readonly completionTokens: () => number
  readonly snapshot: () => Usage
}

export const makeUsage = (): UsageCounter => {
  let promptTokens = 0
  let completionTokens = 0
  let generationCalls = 0
  let judgeCalls = 0
  let correctnessChecks = 0
  let scoringCalls = 0
  let tokensEstimated = false
  const tokens = (cost: CallCost) => {
    promptTokens += cost.promptTokens
    completionTokens += cost.completionTokens
    tokensEstimated ||= cost.tokensEstimated === true
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
    scoring: (cost) => {
      scoringCalls += cost.calls
      tokens(cost)
    },
    completionTokens: () => completionTokens,
    snapshot: () => ({
      promptTokens,
      completionTokens,
      generationCalls,
      judgeCalls,
      correctnessChecks,
      scoringCalls,
      tokensEstimated,
    }),
  }
}
