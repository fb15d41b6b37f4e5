import { Metric } from "effect"

/** Calls to a judge's model by judge name, call ("verdict", "check", "score") and outcome ("ok", "error"). */
export const judgeCalls = Metric.counter("stagebeam_judge_calls_total", {
  description: "Judge calls by judge name, call and outcome",
})

/** Latency of a judge's calls (a verdict asked again with the responses swapped is a call of its own), by judge name and call. */
export const judgeCallDuration = Metric.histogram("stagebeam_judge_call_duration_seconds", {
  description: "Judge call latency by judge name and call",
  boundaries: Metric.exponentialBoundaries({ start: 0.01, factor: 2, count: 14 }),
})

/** Verdicts asked again with the responses swapped (an unclear first answer), by judge name. */
export const judgeReasks = Metric.counter("stagebeam_judge_reasks_total", {
  description: "Verdicts asked again with the responses swapped, by judge name",
})

/** Matches a seeded coin decided after the judge's calls (unclear or evenly split verdicts), by judge name. */
export const judgeCoins = Metric.counter("stagebeam_judge_coin_decisions_total", {
  description: "Matches decided by a seeded coin after judge calls, by judge name",
})

/** Matches shown to the judge in the other order than the tournament paired them (seeded order), by judge name. */
export const judgeSwappedOrders = Metric.counter("stagebeam_judge_swapped_order_total", {
  description: "Matches shown to the judge in the swapped order, by judge name",
})

/**
 * Matches whose verdicts disagreed, by judge name: with both orders, the verdict changed with the order (the
 * position bias an operator watches); with votes, a split.
 */
export const judgeOrderFlips = Metric.counter("stagebeam_judge_order_flips_total", {
  description: "Matches whose verdicts disagreed (both orders: the verdict changed with the order), by judge name",
})

/** Matches decided by how the verdicts were decided: JUDGE, MARGIN, COIN; by judge name. */
export const judgeDecisions = Metric.counter("stagebeam_judge_match_decisions_total", {
  description: "Judged matches by judge name and how they were decided",
})

/**
 * `metric` with these attributes, made once per label set: `Metric.withAttributes` made anew keys its series again
 * (a sort and a JSON of its labels) on every update, and these are updated on every judge call (issue #24).
 */
const series = new Map<string, unknown>()
export const labelled = <M extends Metric.Metric<number, unknown>>(
  metric: M,
  attributes: Readonly<Record<string, string>>,
): M => {
  let key = metric.id
  for (const name in attributes) key += `\u0000${name}=${attributes[name]}`
  let known = series.get(key) as M | undefined
  if (known === undefined) {
    known = Metric.withAttributes(metric, attributes) as M
    series.set(key, known)
  }
  return known
}
