import type { MatchDecidedBy, SearchEvent, SearchEventSink } from "@stagebeam/search"
import { Effect, Metric } from "effect"
import {
  judgeCoins,
  judgeDecisions,
  judgeOrderFlips,
  judgeReasks,
  judgeSwappedOrders,
  labelled,
} from "./JudgeMetrics.ts"

/** What one search's trace says of how its judge decided, to count per judge. */
export interface MatchFacts {
  readonly decidedBy: MatchDecidedBy | "CORRECTNESS" | "IDENTICAL" | "UNREADABLE"
  readonly reasked: boolean
  /** Shown to the judge in the swapped order (seeded order). */
  readonly orderFlipped: boolean
  /** Its verdicts disagreed (both orders, or votes). */
  readonly split: boolean
}

/** Counts one decided match for its judge: how it was decided, a re-ask, a swapped order, verdicts that split. */
export const countMatch = (name: string, facts: MatchFacts): Effect.Effect<void> => {
  // Only the counters that move: an Effect.all of five, most of them void, ran on every judged match (issue #24).
  let counted = Metric.update(labelled(judgeDecisions, { judge: name, decided_by: facts.decidedBy }), 1)
  const also = (metric: Metric.Counter<number>) => {
    counted = Effect.andThen(counted, Metric.update(labelled(metric, { judge: name }), 1))
  }
  if (facts.reasked) also(judgeReasks)
  if (facts.decidedBy === "COIN") also(judgeCoins)
  if (facts.orderFlipped) also(judgeSwappedOrders)
  if (facts.split) also(judgeOrderFlips)
  return counted
}

/** What a MatchJudged event says of its judge's verdicts; undefined for a match decided without one. */
export const factsOf = (event: SearchEvent): MatchFacts | undefined =>
  event._tag === "MatchJudged" &&
  (event.decidedBy === "JUDGE" || event.decidedBy === "MARGIN" || event.decidedBy === "COIN")
    ? {
        decidedBy: event.decidedBy,
        reasked: event.reasked === true,
        orderFlipped: event.orderFlipped === true,
        split: (event.votesFirst ?? 0) > 0 && (event.votesSecond ?? 0) > 0,
      }
    : undefined

/**
 * Per-judge match metrics as a subscriber of a search's events: every match the judge `name` decided is counted,
 * then the event goes on to `sink` (the caller's own subscriber).
 */
export const withJudgeMetrics = (name: string, sink: SearchEventSink): SearchEventSink => ({
  publish: (event) => {
    const facts = factsOf(event)
    return facts === undefined ? sink.publish(event) : Effect.andThen(countMatch(name, facts), sink.publish(event))
  },
})
