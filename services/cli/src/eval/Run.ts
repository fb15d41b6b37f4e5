import type { GrpcStatusError } from "@stagebeam/grpc"
import { type ReasonEvent__Output, type ReasonerClient, type Sampling, toWire } from "@stagebeam/proto"
import { Effect } from "effect"
import type { Item } from "./Dataset.ts"
import type { RowResult } from "./Results.ts"
import type { EvalStrategy } from "./Strategies.ts"

/** Which text VLMEvalKit is given as the prediction: the conclusion (the authors' advice, LLaVA-CoT issue #18) or the whole output. */
export type ScoredText = "conclusion" | "full"

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

/** Statuses of a row the gateway refused (admission, a token's concurrency, the request itself), not failed upstream. */
const REFUSED = new Set(["RESOURCE_EXHAUSTED", "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE"])

/** One row of one configuration: the search, the text VLMEvalKit will score, what it cost. */
export const runRow = (
  client: ReasonerClient,
  metadata: Readonly<Record<string, string>>,
  strategy: EvalStrategy,
  dataset: string,
  item: Item,
  seed: number,
  options: { readonly scored: ScoredText; readonly sampling: Sampling },
): Effect.Effect<RowResult, GrpcStatusError> =>
  Effect.gen(function* () {
    const started = Date.now()
    const base = { dataset, strategy: strategy.label, index: item.index, category: item.category, answer: item.answer }
    const reply = yield* client
      .Reason(
        {
          question: item.prompt,
          ...(item.image === undefined ? {} : { image: { data: Buffer.from(item.image, "base64") } }),
          search: { ...strategy.search, seed: String(seed), sampling: options.sampling },
          ...(strategy.judge === undefined ? {} : { judge: { name: strategy.judge } }),
          includeTrace: true,
          includeStages: options.scored === "full",
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
        prediction: "",
        conclusion: "",
        latency_ms,
        seed,
        prompt_tokens: 0,
        completion_tokens: 0,
        generation_calls: 0,
        judge_calls: 0,
        slot_ms: 0,
        truncated: "",
        deviations: [],
        selection: null,
        error: error.statusName,
        refused: REFUSED.has(error.statusName),
        error_message: error.message,
      } satisfies RowResult
    }
    const response = reply.success
    const full = response.stages.map((stage) => `<${stage.name}>${stage.text}</${stage.name}>`).join("\n\n")
    return {
      ...base,
      prediction: options.scored === "full" ? full : response.conclusion,
      conclusion: response.conclusion,
      latency_ms,
      seed: Number(response.seed),
      prompt_tokens: Number(response.usage?.promptTokens ?? 0),
      completion_tokens: Number(response.usage?.completionTokens ?? 0),
      generation_calls: response.usage?.generationCalls ?? 0,
      judge_calls: (response.usage?.judgeCalls ?? 0) + (response.usage?.correctnessChecks ?? 0),
      slot_ms: slotMsOf(response.trace, response.selection?.bothOrders ?? false),
      truncated: response.truncatedReason,
      deviations: response.selection?.deviations ?? [],
      selection: response.selection ? toWire(response.selection) : null,
      error: null,
      refused: false,
    } satisfies RowResult
  })
