import { Context, Schema } from "effect"

/**
 * Speculative next stage: while a step's tournament runs, the next step's generation starts for candidates still in
 * it, each seeded exactly as if it had won; a candidate that loses has its call interrupted (its HTTP request
 * aborted, its slots freed) and the winner's is kept. The answer and the trace of decisions are those of the plain
 * search. How early it starts is the width (SPECULATION_WIDTH_DEFAULT): the tournament's candidates are speculated on
 * from the round that has at most that many left, and a width of N or more starts each one's call as soon as its
 * sample is finished (before any match).
 * - OFF: never.
 * - ADAPTIVE: only for the candidates whose call fits in the fleet's spare sequences (FleetCapacity), so a busy fleet
 *   spends nothing on it.
 * - ALWAYS: whatever the fleet's load.
 */
export const Speculation = Schema.Literals(["OFF", "ADAPTIVE", "ALWAYS"])
export type Speculation = typeof Speculation.Type

/** Candidates a step speculates on when the request does not say: 2, the finalists of the deciding match. */
export const SPECULATION_WIDTH_DEFAULT = 2

/** Stragglers' default where a request does not say; the REFERENCE preset keeps the reproducible schedule. */
export const STRAGGLERS_DEFAULT = false

/** When a search's calls run, for the requests that do not say (see StepSchedule). */
export interface ScheduleDefaults {
  readonly speculation: Speculation
  readonly speculationWidth: number
  /** Never applied to the REFERENCE preset: a request there must ask for stragglers itself. */
  readonly stragglers: boolean
}

/** The defaults in force; the gateway provides its settings' (this is the only place the search's own live). */
export const ScheduleDefaults = Context.Reference<ScheduleDefaults>("@stagebeam/search/ScheduleDefaults", {
  defaultValue: () => ({
    speculation: "ADAPTIVE",
    speculationWidth: SPECULATION_WIDTH_DEFAULT,
    stragglers: STRAGGLERS_DEFAULT,
  }),
})

/** A request's schedule, every choice made: what the steps of one search run by. */
export interface ResolvedSchedule {
  readonly speculation: Speculation
  readonly speculationWidth: number
  /** Steps start matching their first samples while the others still decode. */
  readonly stragglers: boolean
}

/** The request's own choices, else the defaults (stragglers never by default under the REFERENCE preset). */
export const resolveSchedule = (
  request: {
    readonly speculation?: Speculation | undefined
    readonly speculationWidth?: number | undefined
    readonly stragglers?: boolean | undefined
    readonly preset: "DEFAULT" | "REFERENCE"
  },
  defaults: ScheduleDefaults,
): ResolvedSchedule => ({
  speculation: request.speculation ?? defaults.speculation,
  speculationWidth: request.speculationWidth ?? defaults.speculationWidth,
  stragglers: request.stragglers ?? (request.preset === "REFERENCE" ? false : defaults.stragglers),
})
