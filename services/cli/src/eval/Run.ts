import { extractChoice } from "@stagebeam/cot"
import type { GrpcStatusError } from "@stagebeam/grpc"
import type { ReasonEvent__Output, ReasonerClient } from "@stagebeam/proto"
import { Effect } from "effect"
import type { RowResult } from "./Results.ts"
import type { EvalStrategy } from "./Strategies.ts"
import { type Item, promptOf } from "./Tsv.ts"

/**
 * GPU slot time of a search from its trace: every sample holds one sequence slot of a server for its call's time,
 * every judge call and pre-check one for its own (two per match when judged in both orders).
 */
export const slotMsOf = (trace: ReadonlyArray<ReasonEvent__Output>, bothOrders: boolean): number => {
  let total = 0
  for (const event of trace) {
    const span = (started: string, ended: string) => Math.max(0, Number(ended) - Number(started))
    if (event.candidate) total += span(event.candidate.startedAtMs, event.candidate.endedAtMs)
    else if (event.match?.decidedBy === "JUDGE") {
      total += span(event.match.startedAtMs, event.match.endedAtMs) * (bothOrders ? 2 : 1)
    }
  }
  return total
}

/** One row of one strategy: the search, the letter extracted from its conclusion, what it cost. */
export const runRow = (
  client: ReasonerClient,
  metadata: Readonly<Record<string, string>>,
  strategy: EvalStrategy,
  item: Item,
  seed: number,
): Effect.Effect<RowResult, GrpcStatusError> =>
  Effect.gen(function* () {
    const started = Date.now()
    const base = {
      strategy: strategy.label,
      index: item.index,
      category: item.category,
      l2_category: item.l2Category,
      answer: item.answer,
    }
    const reply = yield* client
      .Reason(
        {
          question: promptOf(item),
          ...(item.image === undefined ? {} : { image: { data: Buffer.from(item.image, "base64") } }),
          search: { ...strategy.search, seed: String(seed) },
          ...(strategy.judge === undefined ? {} : { judge: { name: strategy.judge } }),
          includeTrace: true,
        },
        { metadata },
      )
      .pipe(Effect.result)
    const latency_ms = Date.now() - started
    if (reply._tag === "Failure") {
      const error = reply.failure
      // Credentials refused: every row would be; the run stops.
      if (error.statusName === "UNAUTHENTICATED" || error.statusName === "PERMISSION_DENIED")
        return yield* Effect.fail(error)
      return {
        ...base,
        prediction: null,
        correct: false,
        conclusion: "",
        latency_ms,
        seed: String(seed),
        prompt_tokens: 0,
        completion_tokens: 0,
        generation_calls: 0,
        judge_calls: 0,
        slot_ms: 0,
        truncated: "",
        error: error.statusName,
        error_message: error.message,
      } satisfies RowResult
    }
    const response = reply.success
    const prediction = extractChoice(response.conclusion, item.options) ?? null
    return {
      ...base,
      prediction,
      correct: prediction === item.answer,
      conclusion: response.conclusion,
      latency_ms,
      seed: response.seed,
      prompt_tokens: Number(response.usage?.promptTokens ?? 0),
      completion_tokens: Number(response.usage?.completionTokens ?? 0),
      generation_calls: response.usage?.generationCalls ?? 0,
      judge_calls: (response.usage?.judgeCalls ?? 0) + (response.usage?.correctnessChecks ?? 0),
      slot_ms: slotMsOf(response.trace, false),
      truncated: response.truncatedReason,
      error: null,
    } satisfies RowResult
  })
