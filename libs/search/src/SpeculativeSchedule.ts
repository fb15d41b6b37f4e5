import { Effect, type Exit, Queue } from "effect"
import { type Candidate, classify } from "./Candidate.ts"
import { type Entrant, enters, mergeKey, type StepSpec } from "./Entrant.ts"
import { hearsSamples } from "./Listening.ts"
import { callTaking, type Prefetched, prefetch } from "./Prefetch.ts"
import type { Run } from "./Run.ts"
import { generationOf, sample } from "./Sampling.ts"
import { makeSpeculator, type NextStep, type Speculator } from "./Speculation.ts"
import { type SampledFirst, type StepFailure, seededTournament } from "./StepSchedule.ts"
import { mergeDuplicates } from "./Tournament.ts"

/** A step's speculator: it starts the first call of `next(candidate)` ahead, marked speculative. */
export const speculatorFor = (run: Run, next: NextStep<StepSpec>): Speculator => {
  // Each candidate's next step made once: its size and its call both ask for it (a spec parses the answer so far).
  const specs = new WeakMap<Candidate, StepSpec | undefined>()
  const nextOf = (candidate: Candidate) => {
    if (specs.has(candidate)) return specs.get(candidate)
    const spec = next(candidate)
    specs.set(candidate, spec)
    return spec
  }
  return makeSpeculator(
    run,
    (candidate) => nextOf(candidate)?.n,
    (candidate) => {
      const nextSpec = nextOf(candidate)
      return nextSpec === undefined
        ? Effect.succeed(undefined)
        : prefetch(run, nextSpec.step, nextSpec.kind, generationOf(run, nextSpec, 0, true), hearsSamples(run, nextSpec))
    },
  )
}

/** A judge call's sequences: what a match about to start needs free. */
export const sequencesPerMatch = (run: Run): number =>
  run.selection.rules.votes * (run.selection.rules.bothOrders ? 2 : 1)

/**
 * `sample`, with `onFinished` run in this fiber for each candidate that enters as soon as its sample is finished
 * (speculation starts its next step then, before any match).
 */
const sampleHearing = Effect.fnUntraced(function* (
  run: Run,
  spec: StepSpec,
  prefetched: Prefetched | undefined,
  onFinished: (candidate: Candidate) => Effect.Effect<void>,
) {
  type Heard =
    | { readonly _tag: "finished"; readonly candidate: Candidate }
    | { readonly _tag: "sampled"; readonly exit: Exit.Exit<ReadonlyArray<Entrant>, StepFailure> }
  const heard = yield* Queue.unbounded<Heard>()
  // Sample indices heard (a failed-over request may deliver one again).
  const indices = new Set<number>()
  const onSample = (index: number, generated: Parameters<typeof classify>[2]) => {
    const candidate = classify(spec.kind, index, generated)
    const last = !indices.has(index) && indices.add(index).size === spec.n
    // The call's last sample is left to the tournament, which speculates once its first judge calls are asked.
    if (!last && enters(run, candidate)) Queue.offerUnsafe(heard, { _tag: "finished", candidate })
  }
  yield* Effect.forkChild(
    sample(run, spec, onSample, callTaking(run, spec.step, spec.kind, prefetched)).pipe(
      Effect.exit,
      Effect.flatMap((exit) => Queue.offer(heard, { _tag: "sampled", exit })),
    ),
  )
  while (true) {
    const event = yield* Queue.take(heard)
    if (event._tag === "sampled") return yield* event.exit
    yield* onFinished(event.candidate)
  }
})

/**
 * The speculative schedule: the seeded tournament of the plain one, with the next step's call started for the
 * candidates still in it from the round that has at most `speculationWidth` left (with a width of N or more, for each
 * candidate as its sample finishes), and interrupted as each loses. `keep` is handed the winner's call.
 */
export const speculativeSchedule = (
  run: Run,
  spec: StepSpec,
  prefetched: Prefetched | undefined,
  speculator: Speculator,
  keep: (kept: Prefetched | undefined) => void,
): SampledFirst => {
  const width = run.schedule.speculationWidth
  const perMatch = sequencesPerMatch(run)
  return {
    _tag: "SampledFirst",
    sample:
      width >= spec.n
        ? sampleHearing(run, spec, prefetched, (candidate) => speculator.start([candidate], 0))
        : sample(run, spec, undefined, callTaking(run, spec.step, spec.kind, prefetched)),
    tournament: (entrants, play) => {
      // The entrants that play (merged copies do not) and those that lost a match so far.
      const contenders =
        run.selection.rules.duplicates === "MERGE"
          ? mergeDuplicates(entrants, mergeKey).distinct
          : entrants.map((_, i) => i)
      const lost = new Set<number>()
      return seededTournament(run, spec, entrants, play, {
        // Losers are pruned as each match is decided (onMatch below); a round only starts what it may.
        onRound: (alive, matches) =>
          alive.length <= width
            ? speculator.start(
                alive.map((i) => entrants[i]!.candidate),
                matches * perMatch,
              )
            : Effect.void,
        onMatch: (record) => {
          // A loser's call is interrupted as it loses, not when the round's slowest match is over.
          lost.add(record.winner === record.first ? record.second : record.first)
          return speculator.prune(contenders.filter((i) => !lost.has(i)).map((i) => entrants[i]!.candidate))
        },
      })
    },
    settle: (chosen) => Effect.map(speculator.settle(chosen), keep),
  }
}
