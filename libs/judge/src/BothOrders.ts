import type { Judge, MatchInput, Verdict } from "@stagebeam/search"
import { Effect } from "effect"

const swapped = (match: MatchInput): MatchInput => ({ ...match, first: match.second, second: match.first })

/**
 * A position-bias check (pairwise LLM judges often flip their verdict when the order is swapped): each match is
 * judged in both orders, in parallel. A consistent verdict stands; an inconsistent one keeps the first order's pick
 * and is reported as not explicit, so the trace shows how often the judge could not make up its mind. With two
 * votes a tie carries no extra signal, so this measures the judge; raising accuracy would take more votes.
 */
export const judgeBothOrders = (judge: Judge["Service"]): Judge["Service"] => ({
  checkReasoning: judge.checkReasoning,
  compare: (match) =>
    Effect.map(
      Effect.all([judge.compare(match), judge.compare(swapped(match))], { concurrency: 2 }),
      ([forward, backward]): Verdict => {
        const consistent = forward.explicit && backward.explicit && forward.winner !== backward.winner
        return {
          winner: forward.winner,
          explicit: consistent,
          raw: `${forward.raw}\n--- responses swapped ---\n${backward.raw}`,
          server: forward.server,
          promptTokens: forward.promptTokens + backward.promptTokens,
          completionTokens: forward.completionTokens + backward.completionTokens,
          calls: (forward.calls ?? 1) + (backward.calls ?? 1),
          ...((forward.tokensEstimated === true || backward.tokensEstimated === true) && { tokensEstimated: true }),
        }
      },
    ),
})
