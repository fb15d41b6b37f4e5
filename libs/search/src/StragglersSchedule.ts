import { Effect } from "effect"
import { classify } from "./Candidate.ts"
import { type Entrant, enters, entrantOf, mergeKey, type StepSpec } from "./Entrant.ts"
import { callTaking, type Prefetched } from "./Prefetch.ts"
import type { Run } from "./Run.ts"
import { sample } from "./Sampling.ts"
import type { Speculator } from "./Speculation.ts"
import { sequencesPerMatch } from "./SpeculativeSchedule.ts"
import type { AsTheyCome, Play, StepFailure, TimedOutcome } from "./StepSchedule.ts"
import { knockoutAsTheyFinish } from "./Stragglers.ts"

/**
 * The stragglers schedule: the tournament starts on the first samples while the others still decode
 * (knockoutAsTheyFinish; the pairing follows the finishing order). With a `speculator`, the next step's call starts for
 * the candidates that may still win once they and the samples still to come fit in the width; `keep` is handed the
 * winner's call.
 */
export const stragglersSchedule = (
  run: Run,
  spec: StepSpec,
  prefetched: Prefetched | undefined,
  speculator: Speculator | undefined,
  keep: (kept: Prefetched | undefined) => void,
): AsTheyCome => {
  const width = run.schedule.speculationWidth
  return {
    _tag: "AsTheyCome",
    tournament: <O extends TimedOutcome>(play: Play<O>) =>
      Effect.gen(function* () {
        const streamed = yield* knockoutAsTheyFinish<Entrant, O, StepFailure, never>({
          sample: (finished) =>
            sample(
              run,
              spec,
              (index, generated) => {
                const candidate = classify(spec.kind, index, generated)
                finished(String(index), enters(run, candidate) ? entrantOf(run, spec, candidate) : undefined)
              },
              callTaking(run, spec.step, spec.kind, prefetched),
            ),
          expected: spec.n,
          id: (entrant) => String(entrant.candidate.index),
          key: run.selection.rules.duplicates === "MERGE" ? mergeKey : undefined,
          compare: play.compare,
          roomForMatch: run.budget.cutUnlessRoomFor("round"),
          onField:
            speculator === undefined
              ? undefined
              : (alive, unheard) =>
                  Effect.andThen(
                    speculator.prune(alive.map((entrant) => entrant.candidate)),
                    alive.length + unheard <= width
                      ? speculator.start(
                          alive.map((entrant) => entrant.candidate),
                          sequencesPerMatch(run),
                        )
                      : Effect.void,
                  ),
          onMatch: (record, among) => {
            // Each match is its own round for the estimates (matches no longer start together).
            const { outcome } = record
            run.budget.recordRound(outcome.endedAtMs - outcome.startedAtMs, outcome.completionTokens)
            return play.decided(among, record)
          },
        })
        return { entrants: streamed.entrants, winner: streamed.winner, cutShort: streamed.cutShort }
      }),
    settle: (chosen) => (speculator === undefined ? Effect.void : Effect.map(speculator.settle(chosen), keep)),
  }
}
