import { Effect } from "effect"
import type { MatchInput, Verdict } from "./Services.ts"

/**
 * A verdict under the match's `unclearVerdict` rule, from `ask` (one judge call with the texts in the given order).
 * SECOND: the first answer stands as parsed (no "I choose response 1" → the second, as the reference does).
 * ASK_SWAPPED: an answer that names neither response is asked once more with the two swapped (a position-biased
 * judge then has to name the other position to change the outcome), read back in the match's order; if that names
 * neither too, the first answer stands, reported as not explicit. Every judge implementation shares this rule.
 */
export const decideVerdict = <E, R>(
  match: MatchInput,
  ask: (match: MatchInput) => Effect.Effect<Verdict, E, R>,
): Effect.Effect<Verdict, E, R> =>
  Effect.gen(function* () {
    const verdict = yield* ask(match)
    if (verdict.explicit || match.unclearVerdict === "SECOND") return verdict
    const swapped = yield* ask({ ...match, first: match.second, second: match.first, seed: (match.seed + 1) >>> 0 })
    const cost = {
      promptTokens: verdict.promptTokens + swapped.promptTokens,
      completionTokens: verdict.completionTokens + swapped.completionTokens,
      calls: (verdict.calls ?? 1) + (swapped.calls ?? 1),
      ...((verdict.tokensEstimated === true || swapped.tokensEstimated === true) && { tokensEstimated: true }),
    }
    if (!swapped.explicit) return { ...verdict, ...cost, raw: `${verdict.raw}\n---\n${swapped.raw}` }
    return {
      ...swapped,
      ...cost,
      winner: swapped.winner === 0 ? (1 as const) : (0 as const),
      raw: `${verdict.raw}\n--- asked again, responses swapped ---\n${swapped.raw}`,
    }
  })
