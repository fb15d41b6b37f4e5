import { Effect } from "effect"
import type { Candidate } from "./Candidate.ts"
import { type Entrant, mergeKey, type StepSpec } from "./Entrant.ts"
import type { DeadlineReached, SearchError } from "./Errors.ts"
import { callTaking, type Prefetched } from "./Prefetch.ts"
import type { Run } from "./Run.ts"
import { sample } from "./Sampling.ts"
import { deriveSeed } from "./Seeds.ts"
import { type Compare, type MatchRecord, type Outcome, runTournament } from "./Tournament.ts"

/** How a step fails: the search's errors, or the deadline reached mid-step. */
export type StepFailure = SearchError | DeadlineReached

/** A decided match as the budget's estimates see it. */
export interface TimedOutcome extends Outcome {
  readonly startedAtMs: number
  readonly endedAtMs: number
  /** Completion tokens its judge calls took. */
  readonly completionTokens: number
}

/** What the step has decided about its matches; the schedule only says when they are played. */
export interface Play<O extends TimedOutcome> {
  readonly compare: Compare<Entrant, O, StepFailure, never>
  /** A match was decided (`among`: the entrants the record's indices point into). */
  readonly decided: (among: ReadonlyArray<Entrant>, record: MatchRecord<O>) => Effect.Effect<void>
}

export interface Played {
  /** The entrants that played or could have (merged copies left out by a knockout as they finish). */
  readonly entrants: ReadonlyArray<Entrant>
  /** Index of the winner in `entrants`. */
  readonly winner: number
  /** The budget refused a match: the winner is only the best so far. */
  readonly cutShort: boolean
}

interface Schedule {
  /**
   * The step chose `chosen` (undefined: nothing, it failed or was cut short): what was started ahead for another
   * candidate is interrupted, and the chosen one's call, if any, is kept for the next step.
   */
  readonly settle: (chosen: Candidate | undefined) => Effect.Effect<void>
}

/**
 * When a step's calls run. The step asks for its entrants and plays its matches through the schedule, which tells
 * it nothing about what to choose: plain, speculative (the next step's calls started ahead, see
 * SpeculativeSchedule.ts) and stragglers (matches start on the first samples, see StragglersSchedule.ts) choose
 * alike, but for the pairing stragglers take from the finishing order.
 */
export type StepSchedule = SampledFirst | AsTheyCome

/** Every sample in before the first match: the step may look at its field first (one text, a pre-check, scores). */
export interface SampledFirst extends Schedule {
  readonly _tag: "SampledFirst"
  readonly sample: Effect.Effect<ReadonlyArray<Entrant>, StepFailure>
  /** The seeded tournament over the entrants. */
  readonly tournament: <O extends TimedOutcome>(
    entrants: ReadonlyArray<Entrant>,
    play: Play<O>,
  ) => Effect.Effect<Played, StepFailure>
}

/** Matches start as the samples finish (stragglers): sampling and the tournament are one. */
export interface AsTheyCome extends Schedule {
  readonly _tag: "AsTheyCome"
  readonly tournament: <O extends TimedOutcome>(play: Play<O>) => Effect.Effect<Played, StepFailure>
}

/** What a schedule may do as the seeded tournament goes (speculation starts and prunes calls). */
export interface TournamentHooks {
  /** A round starts: `alive` may still win, and `matches` judge calls are asked. */
  readonly onRound?: ((alive: ReadonlyArray<number>, matches: number) => Effect.Effect<void>) | undefined
  /** A match was decided (after the step heard of it). */
  readonly onMatch?: ((record: MatchRecord<Outcome>) => Effect.Effect<void>) | undefined
}

/**
 * The step's seeded tournament under its rules (KNOCKOUT or SEQUENTIAL, MERGE or WEIGHT), each round checked against
 * the budget before it starts and recorded for its estimates when over.
 */
export const seededTournament = Effect.fnUntraced(function* <O extends TimedOutcome>(
  run: Run,
  spec: StepSpec,
  entrants: ReadonlyArray<Entrant>,
  play: Play<O>,
  hooks: TournamentHooks = {},
) {
  const rules = run.selection.rules
  let roundStartMs = 0
  let roundStartTokens = 0
  const closeRound = Effect.map(run.trace.elapsed, (now) =>
    run.budget.recordRound(now - roundStartMs, run.usage.completionTokens() - roundStartTokens),
  )
  const result = yield* runTournament(rules.tournament, entrants, play.compare, {
    seed: deriveSeed(run.seed, "pairing", spec.step),
    key: rules.duplicates === "MERGE" ? mergeKey : undefined,
    ...(hooks.onRound !== undefined && { onRound: hooks.onRound }),
    // A chain, not a generator made per round (StepMatch's playMatch says why).
    continueRound: (round) =>
      Effect.andThen(round > 0 ? closeRound : Effect.void, () =>
        Effect.flatMap(run.budget.cutUnlessRoomFor("round"), (room) =>
          Effect.map(run.trace.elapsed, (now) => {
            roundStartMs = now
            roundStartTokens = run.usage.completionTokens()
            return room
          }),
        ),
      ),
    onMatch: (record) => Effect.andThen(play.decided(entrants, record), () => hooks.onMatch?.(record) ?? Effect.void),
  })
  if (!result.cutShort) yield* closeRound
  return { entrants, winner: result.winner, cutShort: result.cutShort } satisfies Played
})

/**
 * The plain schedule: one call, then the seeded tournament. A call `prefetched` for the step (the step before
 * speculated on it) is taken instead of making it again.
 */
export const plainSchedule = (run: Run, spec: StepSpec, prefetched?: Prefetched): SampledFirst => ({
  _tag: "SampledFirst",
  sample: sample(run, spec, undefined, callTaking(run, spec.step, spec.kind, prefetched)),
  tournament: (entrants, play) => seededTournament(run, spec, entrants, play),
  settle: () => Effect.void,
})
