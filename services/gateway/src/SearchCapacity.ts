import { type Pool, spareSequences } from "@stagebeam/fleet"
import type { FleetCapacityProbe } from "@stagebeam/search"
import { Clock, Effect } from "effect"

/**
 * What the search asks before it speculates. None while calls wait for admission (the fleet has more work than it
 * runs: whatever a speculation took would be theirs); else from the generator pool's load: each server's
 * max_num_seqs less its sequences in flight and what its /metrics report shows of others' (running, and waiting
 * counted double), less the reserve it keeps free.
 */
export const fleetCapacityOf = (
  pool: Pool,
  waitingForAdmission: Effect.Effect<number>,
  maxSequences: number,
  reserve: number,
): FleetCapacityProbe => ({
  spareSequences: Effect.gen(function* () {
    if ((yield* waitingForAdmission) > 0) return 0
    const states = yield* pool.snapshot
    return spareSequences(states, yield* Clock.currentTimeMillis, maxSequences, reserve)
  }),
})
