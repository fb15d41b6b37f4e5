import { type Pool, spareSequences } from "@stagebeam/fleet"
import type { FleetCapacityProbe } from "@stagebeam/search"
import { Clock, Effect } from "effect"

/**
 * What the search asks before it speculates, from the generator pool's load: each server's max_num_seqs less its
 * sequences in flight and what its /metrics report shows of others' (running, and waiting counted double), less the
 * reserve it keeps free.
 */
export const fleetCapacityOf = (pool: Pool, maxSequences: number, reserve: number): FleetCapacityProbe => ({
  spareSequences: Effect.gen(function* () {
    const states = yield* pool.snapshot
    return spareSequences(states, yield* Clock.currentTimeMillis, maxSequences, reserve)
  }),
})
