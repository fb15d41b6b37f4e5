import { Context, Effect, Metric } from "effect"
import type { Candidate } from "./Candidate.ts"
import { discard, type Prefetched } from "./Prefetch.ts"
import type { Run } from "./Run.ts"

/**
 * Speculative next-stage calls by outcome: "started", "kept" (its candidate won: the search adopted it), "discarded"
 * (its candidate lost: interrupted, its request aborted) and "no_room" (ADAPTIVE found no spare sequences for it).
 */
export const speculativeCalls = Metric.counter("stagebeam_speculative_calls_total", {
  description: "Speculative next-stage calls by outcome: started, kept, discarded, no_room",
})

type SpeculationOutcome = "started" | "kept" | "discarded" | "no_room"

// Each outcome's series made once: Metric.withAttributes made per update keys its series again (issue #24).
const byOutcome = Object.fromEntries(
  (["started", "kept", "discarded", "no_room"] as const).map((outcome) => [
    outcome,
    Metric.withAttributes(speculativeCalls, { outcome }),
  ]),
) as Record<SpeculationOutcome, typeof speculativeCalls>

const count = (outcome: SpeculationOutcome, n = 1) => (n === 0 ? Effect.void : Metric.update(byOutcome[outcome], n))

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
  /**
   * These candidates may still win and `judgeSequences` judge sequences are about to start: start the next step's
   * call for each that has none (as room allows; equal texts share one).
   */
  readonly start: (candidates: ReadonlyArray<Candidate>, judgeSequences: number) => Effect.Effect<void>
  /** Only these may still win: every call started for another text is interrupted at once (its slots freed). */
  readonly prune: (alive: ReadonlyArray<Candidate>) => Effect.Effect<void>
  /** The step chose `chosen`: its call if one was started; every other is interrupted. */
  readonly settle: (chosen: Candidate | undefined) => Effect.Effect<Prefetched | undefined>
}

/**
 * One step's speculation; `prefetchFor` starts the next step's call for a candidate (undefined: nothing to start).
 * ADAPTIVE leaves the judge sequences a start is told of free for the matches that start with it.
 */
export const makeSpeculator = (
  run: Run,
  sequencesOf: (candidate: Candidate) => number | undefined,
  prefetchFor: (candidate: Candidate) => Effect.Effect<Prefetched | undefined>,
): Speculator => {
  const started = new Map<string, Prefetched>()
  const refused = new Set<string>()
  const dropAllBut = (keep: (text: string) => boolean): Effect.Effect<void> => {
    const dropped = [...started].filter(([text]) => !keep(text))
    // Asked after every match: most of the time there is nothing to drop.
    if (dropped.length === 0) return Effect.void
    return Effect.forEach(
      dropped,
      ([text, prefetched]) => {
        started.delete(text)
        return Effect.andThen(discard(prefetched), count("discarded"))
      },
      { discard: true },
    )
  }
  const calls: Calls = { run, started, refused, sequencesOf, prefetchFor }
  return {
    start: (candidates, judgeSequences) => startCalls(calls, candidates, judgeSequences),
    prune: (alive) => {
      const texts = new Set(alive.map((candidate) => candidate.text))
      return dropAllBut((text) => texts.has(text))
    },
    // Chains and a module-level generator, not generators made per step (StepMatch's playMatch says why).
    settle: (chosen) =>
      Effect.suspend(() => {
        const kept = chosen === undefined ? undefined : started.get(chosen.text)
        if (kept === undefined)
          return Effect.as(
            dropAllBut(() => false),
            undefined,
          )
        started.delete(chosen!.text)
        return Effect.as(
          Effect.andThen(count("kept"), () => dropAllBut(() => false)),
          kept,
        )
      }),
  }
}

/** A step's speculative calls: those started (by text), the texts refused for want of room, and how to start one. */
interface Calls {
  readonly run: Run
  readonly started: Map<string, Prefetched>
  readonly refused: Set<string>
  readonly sequencesOf: (candidate: Candidate) => number | undefined
  readonly prefetchFor: (candidate: Candidate) => Effect.Effect<Prefetched | undefined>
}

/** Speculator.start: a call for each candidate that has none, as room allows (equal texts share one). */
const startCalls = Effect.fnUntraced(function* (
  calls: Calls,
  candidates: ReadonlyArray<Candidate>,
  judgeSequences: number,
) {
  const mode = calls.run.schedule.speculation
  if (mode === "OFF") return
  const wanted = candidates.filter((candidate) => !calls.started.has(candidate.text))
  if (wanted.length === 0) return
  let spare =
    mode === "ALWAYS" ? Number.POSITIVE_INFINITY : (yield* (yield* FleetCapacity).spareSequences) - judgeSequences
  for (const candidate of wanted) {
    // Equal texts continue alike: one call serves both.
    if (calls.started.has(candidate.text)) continue
    const sequences = calls.sequencesOf(candidate)
    if (sequences === undefined) continue
    if (sequences > spare) {
      // Counted once per text: a stragglers step asks again at every finished sample.
      if (!calls.refused.has(candidate.text)) yield* count("no_room")
      calls.refused.add(candidate.text)
      continue
    }
    const prefetched = yield* calls.prefetchFor(candidate)
    if (prefetched === undefined) continue
    spare -= sequences
    calls.started.set(candidate.text, prefetched)
    yield* count("started")
  }
})
