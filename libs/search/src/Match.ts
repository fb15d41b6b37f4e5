import type { MatchOrder } from "@stagebeam/cot"
import { Effect } from "effect"
import { deriveSeed } from "./Seeds.ts"
import type { MatchInput, Verdict } from "./Services.ts"
import { matchCoin } from "./Verdicts.ts"

/** How a match is put to a pairwise judge (the selection rules `matchOrder`, `bothOrders`, `votes`). */
export interface MatchRules {
  readonly matchOrder: MatchOrder
  readonly bothOrders: boolean
  readonly votes: number
}

/** How a judged match was decided. */
export type MatchDecidedBy = "JUDGE" | "MARGIN" | "COIN"

/** A match decided by one or more verdicts; `winner` 0 is the match's first entrant. */
export interface MatchDecision {
  readonly winner: 0 | 1
  /**
   * JUDGE: the verdicts named the winner (one verdict; both orders agreeing; a majority of votes). MARGIN: they
   * disagreed and the larger logprob margin decided. COIN: nothing decided it, a seeded coin did.
   */
  readonly decidedBy: MatchDecidedBy
  /** The verdicts named the winner without any fallback. */
  readonly explicit: boolean
  /** Summed log-odds for the winner over the verdicts that had a margin; undefined when none had one. */
  readonly margin: number | undefined
  /** Verdicts for the first and the second entrant (coins do not vote). */
  readonly votes: readonly [number, number]
  /** One verdict, shown with the second entrant first (SEEDED order). */
  readonly orderFlipped: boolean
  /** Some verdict was asked again with the responses swapped. */
  readonly reasked: boolean
  readonly verdicts: ReadonlyArray<Verdict>
  readonly raw: string
  readonly server: string
  readonly promptTokens: number
  readonly completionTokens: number
  readonly calls: number
  readonly tokensEstimated: boolean
}

const swapped = (match: MatchInput, seed: number): MatchInput => ({
  ...match,
  first: match.second,
  second: match.first,
  seed,
})

/** A verdict read back in the match's order. */
const inMatchOrder = (verdict: Verdict, flipped: boolean): Verdict =>
  flipped ? { ...verdict, winner: verdict.winner === 0 ? 1 : 0 } : verdict

/** Log-odds for the first entrant from one verdict (undefined without a margin). */
const signedMargin = (verdict: Verdict): number | undefined =>
  verdict.margin === undefined ? undefined : verdict.winner === 0 ? verdict.margin : -verdict.margin

/** A verdict that votes: it named a response, or a margin broke its tie; a coin does not vote. */
const votes = (verdict: Verdict) => verdict.decidedBy !== "COIN"

/**
 * Combines verdicts in the match's order: a strict majority of the voting verdicts wins (JUDGE); otherwise the sum
 * of their margins (MARGIN); otherwise a seeded coin (COIN).
 */
const combine = (verdicts: ReadonlyArray<Verdict>, seed: number, orderFlipped: boolean): MatchDecision => {
  const voting = verdicts.filter(votes)
  const forFirst = voting.filter((verdict) => verdict.winner === 0).length
  const forSecond = voting.length - forFirst
  const margins = voting.map(signedMargin).filter((margin): margin is number => margin !== undefined)
  const total = margins.length === 0 ? undefined : margins.reduce((a, b) => a + b, 0)
  const decide = (): { winner: 0 | 1; decidedBy: MatchDecidedBy } => {
    if (forFirst !== forSecond) return { winner: forFirst > forSecond ? 0 : 1, decidedBy: "JUDGE" }
    if (total !== undefined && total !== 0) return { winner: total > 0 ? 0 : 1, decidedBy: "MARGIN" }
    // A lone verdict settled by its own coin keeps it.
    const lone = verdicts.length === 1 ? verdicts[0] : undefined
    return { winner: lone?.decidedBy === "COIN" ? lone.winner : matchCoin(seed, "match"), decidedBy: "COIN" }
  }
  const { winner, decidedBy } = decide()
  const unanimous = voting.length === verdicts.length && (forFirst === 0 || forSecond === 0)
  return {
    winner,
    decidedBy,
    explicit: decidedBy === "JUDGE" && unanimous && verdicts.every((verdict) => verdict.explicit),
    margin: total === undefined ? undefined : winner === 0 ? total : -total,
    votes: [forFirst, forSecond],
    orderFlipped,
    reasked: verdicts.some((verdict) => verdict.reasked === true),
    verdicts,
    raw:
      verdicts.length === 1
        ? verdicts[0]!.raw
        : verdicts.map((verdict, i) => `--- verdict ${i + 1} ---\n${verdict.raw}`).join("\n"),
    server: verdicts[0]?.server ?? "",
    promptTokens: verdicts.reduce((sum, verdict) => sum + verdict.promptTokens, 0),
    completionTokens: verdicts.reduce((sum, verdict) => sum + verdict.completionTokens, 0),
    calls: verdicts.reduce((sum, verdict) => sum + (verdict.calls ?? 1), 0),
    tokensEstimated: verdicts.some((verdict) => verdict.tokensEstimated === true),
  }
}

/**
 * Puts one match to a pairwise judge under the rules, with `compare` one verdict (the unclear rule applied):
 * - votes K: K verdicts, each with its own seed, in parallel; the majority wins (arXiv 2411.19477's K judgements
 *   per match), a tie goes to the summed margins, then to a seeded coin;
 * - bothOrders: every vote is two verdicts, one per order, in parallel; they count as two votes, so when they
 *   disagree the larger margin decides (a position-biased judge that flips with the order is outvoted by its own
 *   confidence), or the coin;
 * - matchOrder SEEDED: each single-order verdict shows the two in an order drawn from the seed, and is read back.
 */
export const judgeMatch = <E, R>(
  match: MatchInput,
  rules: MatchRules,
  compare: (match: MatchInput) => Effect.Effect<Verdict, E, R>,
): Effect.Effect<MatchDecision, E, R> => {
  const voteSeed = (vote: number) => (rules.votes === 1 ? match.seed : deriveSeed(match.seed, "vote", vote))
  const oneVote = (vote: number): Effect.Effect<ReadonlyArray<Verdict & { readonly flipped: boolean }>, E, R> => {
    const seed = voteSeed(vote)
    if (rules.bothOrders) {
      return Effect.map(
        Effect.all([compare({ ...match, seed }), compare(swapped(match, deriveSeed(seed, "swapped")))] as const, {
          concurrency: 2,
        }),
        ([forward, backward]) => [
          { ...forward, flipped: false },
          { ...inMatchOrder(backward, true), flipped: true },
        ],
      )
    }
    const flipped = rules.matchOrder === "SEEDED" && matchCoin(seed, "order") === 1
    return Effect.map(compare(flipped ? swapped(match, seed) : { ...match, seed }), (verdict) => [
      { ...inMatchOrder(verdict, flipped), flipped },
    ])
  }
  // One vote (the default) runs on this fiber: no fork for nothing to run beside it (issue #24).
  const votes =
    rules.votes === 1
      ? Effect.map(oneVote(0), (verdicts) => [verdicts])
      : Effect.all(
          Array.from({ length: rules.votes }, (_, vote) => oneVote(vote)),
          { concurrency: "unbounded" },
        )
  return Effect.map(votes, (perVote) => {
    const verdicts = perVote.flat()
    const single = verdicts.length === 1 ? verdicts[0] : undefined
    return combine(verdicts, match.seed, single?.flipped ?? false)
  })
}
