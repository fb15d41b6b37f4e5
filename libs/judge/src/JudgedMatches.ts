import type { MatchDecidedBy, SearchEvent, SearchEventSink } from "@stagebeam/search"
import { Effect, type Metric } from "effect"
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
export const countMatch = (name: string, facts: MatchFacts): Effect.Effect<void> =>
  // One Effect step writing only the counters that move, as Judges.ts's timer does: this runs for every judged match
  // (issue #24), where an Effect.all of five updates, most of them void, took a dozen.
  Effect.withFiber((fiber) => {
    const count = (metric: Metric.Counter<number>, attributes: Readonly<Record<string, string>>) =>
      labelled(metric, attributes).updateUnsafe(1, fiber.context)
    count(judgeDecisions, { judge: name, decided_by: facts.decidedBy })
    if (facts.reasked) count(judgeReasks, { judge: name })
    if (facts.decidedBy === "COIN") count(judgeCoins, { judge: name })
    if (facts.orderFlipped) count(judgeSwappedOrders, { judge: name })
    if (facts.split) count(judgeOrderFlips, { judge: name })
    return Effect.void
  })

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
