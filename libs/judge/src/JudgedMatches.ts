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
export const countMatch = (name: string, facts: MatchFacts) =>
  Effect.all([
    Metric.update(labelled(judgeDecisions, { judge: name, decided_by: facts.decidedBy }), 1),
    facts.reasked ? Metric.update(labelled(judgeReasks, { judge: name }), 1) : Effect.void,
    facts.decidedBy === "COIN" ? Metric.update(labelled(judgeCoins, { judge: name }), 1) : Effect.void,
    facts.orderFlipped ? Metric.update(labelled(judgeSwappedOrders, { judge: name }), 1) : Effect.void,
    facts.split ? Metric.update(labelled(judgeOrderFlips, { judge: name }), 1) : Effect.void,
  ])

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
