import { readFileSync } from "node:fs"
import type { SearchResult } from "@stagebeam/search"
import { Effect, Metric } from "effect"

/**
 * What searches cost, for an SRE's dashboard: tokens and GPU sequence-seconds by strategy, N, judge and the caller's
 * token name; searches cut short by reason; the wait for admission; the build. Labels are bounded: strategies and cut
 * reasons are enums, N is bounded by the request limits, judges and token names are the declared ones.
 */

export const searchTokens = Metric.counter("stagebeam_search_tokens_total", {
  description:
    "Tokens of answered searches (all their calls), by strategy, N, judge, token (the caller's) and type (prompt, completion)",
})

export const searchGpuSeconds = Metric.counter("stagebeam_search_gpu_seconds_total", {
  description:
    "GPU sequence-seconds searches held (their admitted sequences × their run time), by strategy, N, judge and token",
})

export const searchesCutShort = Metric.counter("stagebeam_search_cut_short_total", {
  description: "Answers cut short (best found so far returned), by strategy and reason",
})

export const admissionWait = Metric.histogram("stagebeam_admission_wait_seconds", {
  description: "Time an admitted call waited for GPU sequences before its search started",
  boundaries: Metric.exponentialBoundaries({ start: 0.01, factor: 2, count: 14 }),
})

export const buildInfo = Metric.gauge("stagebeam_build_info", {
  description: "1, labelled with the gateway's version and the Node.js version it runs on",
})

/** The gateway package's version (the image is tagged with it). */
export const GATEWAY_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version

export const recordBuildInfo = Metric.update(
  Metric.withAttributes(buildInfo, { version: GATEWAY_VERSION, node: process.versions.node }),
  1,
)

export interface SearchFacts {
  readonly strategy: string
  readonly candidates: number
  readonly judge: string
  /** The name of the bearer token that admitted the call; undefined without authentication. */
  readonly caller: string | undefined
  /** Sequences the search held in admission. */
  readonly sequences: number
  readonly elapsedMs: number
  readonly result: SearchResult
}

/** The `token` label of calls a gateway without bearer tokens serves. */
export const ANONYMOUS = "anonymous"

/** Counts one answered search. */
export const recordSearch = Effect.fnUntraced(function* (facts: SearchFacts) {
  // GREEDY samples one answer and asks no judge, whatever N and judge the request named.
  const greedy = facts.strategy === "GREEDY"
  const labels = {
    strategy: facts.strategy,
    n: String(greedy ? 1 : facts.candidates),
    judge: greedy ? "none" : facts.judge,
    // Token names come from the operator's token file, so the label set stays bounded.
    token: facts.caller ?? ANONYMOUS,
  }
  const { usage } = facts.result
  yield* Metric.update(Metric.withAttributes(searchTokens, { ...labels, type: "prompt" }), usage.promptTokens)
  yield* Metric.update(Metric.withAttributes(searchTokens, { ...labels, type: "completion" }), usage.completionTokens)
  yield* Metric.update(Metric.withAttributes(searchGpuSeconds, labels), (facts.sequences * facts.elapsedMs) / 1000)
  const cut = facts.result.cutShort
  if (cut !== undefined) {
    yield* Metric.update(Metric.withAttributes(searchesCutShort, { strategy: facts.strategy, reason: cut.reason }), 1)
  }
})
