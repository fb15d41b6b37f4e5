import type { Selection as ProtoSelection, ReasonEvent, ReasonResponse } from "@stagebeam/proto"
import type { SearchEvent, SearchResult, Selection, SelectionRule } from "@stagebeam/search"
import { protoField } from "./ProtoFields.ts"
import type { Answered, JudgedBy } from "./Reasoning.ts"

const ms = (value: number): string => String(Math.max(0, Math.round(value)))

/** The request field that sets a selection rule, as the proto spells it within SearchOptions ("judge.both_orders"). */
const ruleField = (rule: SelectionRule): string => protoField([rule]).replace(/^search\./, "")

/** The selection in force, with the deviations named by their request fields. */
export const toProtoSelection = (selection: Selection, context: JudgedBy): ProtoSelection => ({
  preset: selection.preset,
  tournament: selection.rules.tournament,
  duplicates: selection.rules.duplicates,
  reasoningCheck: selection.rules.reasoningCheck,
  unclearVerdict: selection.rules.unclearVerdict,
  malformed: selection.rules.malformed,
  promptWording: selection.rules.wording,
  deviations: [...selection.deviations.map(ruleField), ...(context.deviations ?? [])],
  matchOrder: selection.rules.matchOrder,
  verdict: selection.rules.verdict,
  votes: selection.rules.votes,
  bothOrders: selection.rules.bothOrders,
  judge: context.judge,
  judging: context.judging.toUpperCase(),
})

/** One search event as the proto's ReasonEvent (SearchFinished carries only its time: the answer goes out as `done`). */
export const toProtoEvent = (event: SearchEvent, context: JudgedBy): ReasonEvent => {
  switch (event._tag) {
    case "SearchStarted":
      return {
        atMs: ms(event.atMs),
        searchStarted: {
          strategy: event.strategy,
          candidates: event.candidates,
          seed: String(event.seed),
          selection: toProtoSelection(event.selection, context),
        },
      }
    case "StepStarted":
      return {
        atMs: ms(event.atMs),
        stepStarted: { step: event.step, kind: event.kind, candidates: event.candidates },
      }
    case "CandidateGenerated":
      return {
        atMs: ms(event.endedAtMs),
        candidate: {
          step: event.step,
          kind: event.kind,
          index: event.index,
          attempt: event.attempt,
          text: event.text,
          completionTokens: event.completionTokens,
          tokensEstimated: event.tokensEstimated === true,
          finishReason: event.finishReason,
          valid: event.valid,
          problem: event.problem ?? "",
          server: event.server,
          mergedIntoPlusOne: event.mergedInto === undefined ? 0 : event.mergedInto + 1,
          startedAtMs: ms(event.startedAtMs),
          endedAtMs: ms(event.endedAtMs),
        },
      }
    case "ReasoningChecked":
      return {
        atMs: ms(event.endedAtMs),
        reasoningChecked: {
          step: event.step,
          index: event.index,
          correct: event.correct,
          verdict: event.raw,
          server: event.server,
        },
      }
    case "MatchJudged":
      return {
        atMs: ms(event.endedAtMs),
        match: {
          step: event.step,
          kind: event.kind,
          round: event.round,
          first: event.first,
          second: event.second,
          winner: event.winner,
          verdict: event.raw,
          explicit: event.explicit,
          server: event.server,
          decidedBy: event.decidedBy,
          startedAtMs: ms(event.startedAtMs),
          endedAtMs: ms(event.endedAtMs),
          ...(event.margin === undefined ? {} : { margin: event.margin }),
          votesFirst: event.votesFirst ?? 0,
          votesSecond: event.votesSecond ?? 0,
          orderFlipped: event.orderFlipped ?? false,
          reasked: event.reasked ?? false,
          verdictMode: event.verdictMode ?? "",
          calls: event.calls ?? 0,
        },
      }
    case "CandidateScored":
      return {
        atMs: ms(event.endedAtMs),
        scored: {
          step: event.step,
          kind: event.kind,
          index: event.index,
          score: event.score,
          server: event.server,
          startedAtMs: ms(event.startedAtMs),
          endedAtMs: ms(event.endedAtMs),
        },
      }
    case "SearchRetraced":
      return {
        atMs: ms(event.atMs),
        retraced: { pass: event.pass, secondBest: event.secondBest, cutoff: event.cutoff },
      }
    case "StepChosen":
      return {
        atMs: ms(event.atMs),
        stepChosen: { step: event.step, kind: event.kind, index: event.index, text: event.text, by: event.by },
      }
    case "SearchCutShort":
      return { atMs: ms(event.atMs), cutShort: { reason: event.reason, detail: event.detail } }
    case "SearchFinished":
      return { atMs: ms(event.atMs) }
  }
}

export interface ResponseOptions extends JudgedBy {
  readonly includeStages: boolean
  readonly includeTrace: boolean
  readonly elapsedMs: number
}

/** The Reason answer: the conclusion always; the stages and the trace when asked for. */
export const toProtoResponse = (result: SearchResult, options: ResponseOptions): ReasonResponse => ({
  conclusion: result.conclusion,
  stages: options.includeStages ? result.stages.map((stage) => ({ name: stage.stage, text: stage.text })) : [],
  usage: {
    promptTokens: String(result.usage.promptTokens),
    completionTokens: String(result.usage.completionTokens),
    generationCalls: result.usage.generationCalls,
    judgeCalls: result.usage.judgeCalls,
    correctnessChecks: result.usage.correctnessChecks,
    tokensEstimated: result.usage.tokensEstimated,
    scoringCalls: result.usage.scoringCalls,
  },
  seed: String(result.seed),
  truncatedReason: result.cutShort?.reason ?? "",
  truncatedDetail: result.cutShort?.detail ?? "",
  trace: options.includeTrace
    ? result.trace.filter((event) => event._tag !== "SearchFinished").map((event) => toProtoEvent(event, options))
    : [],
  elapsedMs: ms(options.elapsedMs),
  strategy: result.strategy,
  tournament: result.tournament,
  selection: toProtoSelection(result.selection, options),
})

/** The Reason answer of a finished call, as it asked for it. */
export const toProtoAnswer = ({ command, result, elapsedMs, judgedBy }: Answered): ReasonResponse =>
  toProtoResponse(result, {
    ...judgedBy,
    includeStages: command.includeStages,
    includeTrace: command.includeTrace,
    elapsedMs,
  })

/** A stream's last event: the answer, without its trace (the events were the trace). */
export const toProtoDone = (answered: Answered): ReasonEvent => {
  const response = toProtoAnswer(answered)
  return { atMs: response.elapsedMs ?? "0", done: { ...response, trace: [] } }
}
