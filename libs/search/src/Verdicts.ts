import { Effect } from "effect"
import { deriveSeed } from "./Seeds.ts"
import type { MatchInput, Verdict } from "./Services.ts"

/** A seeded coin for a match: the same seed gives the same side, whatever ran before. */
export const matchCoin = (seed: number, ...path: ReadonlyArray<string | number>): 0 | 1 =>
  deriveSeed(seed, "coin", ...path) % 2 === 0 ? 0 : 1

const swappedOf = (match: MatchInput): MatchInput => ({
  ...match,
  first: match.second,
  second: match.first,
  seed: (match.seed + 1) >>> 0,
})

const costOf = (a: Verdict, b: Verdict) => ({
  promptTokens: a.promptTokens + b.promptTokens,
  completionTokens: a.completionTokens + b.completionTokens,
  calls: (a.calls ?? 1) + (b.calls ?? 1),
  ...((a.tokensEstimated === true || b.tokensEstimated === true) && { tokensEstimated: true }),
})

const coinVerdict = (match: MatchInput, verdict: Verdict, raw: string): Verdict => ({
  ...verdict,
  winner: matchCoin(match.seed),
  explicit: false,
  decidedBy: "COIN",
  margin: undefined,
  raw: `${raw}\n--- named neither response: a seeded coin ---`,
})

/**
 * A verdict under the match's `unclearVerdict` rule, from `ask` (one judge call with the texts in the given order).
 * A verdict is unclear when it names neither response (or, for a CHOICE verdict, the two labels tie).
 * - SECOND: the first answer stands as parsed (no "I choose response 1" → the second, as the reference does).
 * - COIN: an unclear answer is settled by a seeded coin, without another call.
 * - ASK_SWAPPED: asked once more with the two swapped (a position-biased judge then has to name the other position
 *   to change the outcome), read back in the match's order; if that is unclear too, the first answer stands.
 * - ASK_SWAPPED_THEN_COIN (DEFAULT): the same, and a second unclear answer is a seeded coin, never silently "second".
 * Every judge implementation shares this rule; `decidedBy` and `reasked` record what happened.
 */
export const decideVerdict = <E, R>(
  match: MatchInput,
  ask: (match: MatchInput) => Effect.Effect<Verdict, E, R>,
): Effect.Effect<Verdict, E, R> =>
  // A clear first answer (the usual case) is one flatMap, without a generator per judge call.
  Effect.flatMap(ask(match), (verdict): Effect.Effect<Verdict, E, R> => {
    if (verdict.explicit) return Effect.succeed({ ...verdict, decidedBy: "EXPLICIT" as const })
    switch (match.unclearVerdict) {
      case "SECOND":
        return Effect.succeed({ ...verdict, decidedBy: "UNCLEAR" as const })
      case "COIN":
        return Effect.succeed(coinVerdict(match, verdict, verdict.raw))
      default:
        break
    }
    return Effect.map(ask(swappedOf(match)), (swapped): Verdict => {
      const cost = costOf(verdict, swapped)
      if (!swapped.explicit) {
        const raw = `${verdict.raw}\n--- asked again, responses swapped ---\n${swapped.raw}`
        return match.unclearVerdict === "ASK_SWAPPED_THEN_COIN"
          ? { ...coinVerdict(match, verdict, raw), ...cost, reasked: true }
          : { ...verdict, ...cost, raw, decidedBy: "UNCLEAR" as const, reasked: true }
      }
      return {
        ...swapped,
        ...cost,
        winner: swapped.winner === 0 ? (1 as const) : (0 as const),
        raw: `${verdict.raw}\n--- asked again, responses swapped ---\n${swapped.raw}`,
        decidedBy: "EXPLICIT" as const,
        reasked: true,
      }
    })
  })
