import { Context, Effect, Fiber, Schema } from "effect"
import type { Candidate } from "./Candidate.ts"
import type { Prefetched, Run } from "./Run.ts"

/**
 * Speculative next stage: while a step's deciding match runs, the next step's generation starts for both finalists,
 * each seeded exactly as if it had won; the verdict keeps the winner's call and interrupts the loser's (its HTTP
 * request aborted, its slots freed). The answer and the trace of decisions are those of the plain search.
 * - OFF: never.
 * - ADAPTIVE: only for the finalists whose call fits in the fleet's spare sequences (FleetCapacity), so a busy fleet
 *   spends nothing on it.
 * - ALWAYS: whatever the fleet's load.
 */
export const Speculation = Schema.Literals(["OFF", "ADAPTIVE", "ALWAYS"])
export type Speculation = typeof Speculation.Type

export interface FleetCapacityProbe {
  /** Sequences the generator's servers could start now without queueing (Infinity: no limit known). */
  readonly spareSequences: Effect.Effect<number>
}

/** What the search asks before it speculates; the default knows no limit (the gateway provides the pool's load). */
export const FleetCapacity = Context.Reference<FleetCapacityProbe>("@stagebeam/search/FleetCapacity", {
  defaultValue: () => ({ spareSequences: Effect.succeed(Number.POSITIVE_INFINITY) }),
})

/** The step after a candidate, as the strategy would run it if that candidate won (undefined: none to speculate). */
export type NextStep<S> = (candidate: Candidate) => S | undefined

export interface Speculator {
  /** The deciding match is about to run between these: start the next step's call for each (as room allows). */
  readonly start: (finalists: ReadonlyArray<Candidate>) => Effect.Effect<void>
  /** The step chose `chosen`: its call if one was started; every other is interrupted. */
  readonly settle: (chosen: Candidate | undefined) => Effect.Effect<Prefetched | undefined>
}

/**
 * Interrupts a prefetched call that will not be used (the HTTP request is aborted with it), without waiting for it to
 * wind down: the search goes on at once (the call is the search's child, so it cannot outlive it).
 */
export const discard = (prefetched: Prefetched | undefined): Effect.Effect<void> =>
  prefetched === undefined ? Effect.void : Effect.asVoid(Effect.forkChild(Fiber.interrupt(prefetched.fiber)))

/**
 * One step's speculation; `prefetchFor` starts the next step's call for a candidate (undefined: nothing to start).
 * ADAPTIVE keeps `finalSequences` of the spare ones for the final's own judge calls, which start just after.
 */
export const makeSpeculator = (
  run: Run,
  finalSequences: number,
  sequencesOf: (candidate: Candidate) => number | undefined,
  prefetchFor: (candidate: Candidate) => Effect.Effect<Prefetched | undefined>,
): Speculator => {
  const started = new Map<string, Prefetched>()
  const mode = run.request.speculation ?? "ADAPTIVE"
  return {
    start: (finalists) =>
      Effect.gen(function* () {
        if (mode === "OFF") return
        let spare =
          mode === "ALWAYS" ? Number.POSITIVE_INFINITY : (yield* (yield* FleetCapacity).spareSequences) - finalSequences
        for (const candidate of finalists) {
          // Equal texts continue alike: one call serves both.
          if (started.has(candidate.text)) continue
          const sequences = sequencesOf(candidate)
          if (sequences === undefined || sequences > spare) continue
          const prefetched = yield* prefetchFor(candidate)
          if (prefetched === undefined) continue
          spare -= sequences
          started.set(candidate.text, prefetched)
        }
      }),
    settle: (chosen) =>
      Effect.gen(function* () {
        const kept = chosen === undefined ? undefined : started.get(chosen.text)
        const losers = [...started.values()].filter((prefetched) => prefetched !== kept)
        started.clear()
        yield* Effect.forEach(losers, discard, { discard: true })
        return kept
      }),
  }
}
