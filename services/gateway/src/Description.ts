import { Fleet } from "@stagebeam/fleet"
import type { DescribeResponse } from "@stagebeam/proto"
import { Effect } from "effect"
import packageJson from "../package.json" with { type: "json" }
import { GENERATOR_POOL, REWARD_POOL } from "./config/Resolve.ts"
import { EmbeddedFleet } from "./EmbeddedFleet.ts"

/**
 * What this gateway is and what answers behind it, for an evaluation's provenance (Describe): its version and
 * commit ($STAGEBEAM_COMMIT, set by the image build), each pool's model and its servers' kinds and versions as last
 * probed, and which pools are the embedded simulator.
 */
export const describeGateway = Effect.gen(function* () {
  const fleet = yield* Fleet
  const embedded = yield* EmbeddedFleet
  const pools = yield* Effect.forEach([...fleet.pools.values()], (pool) =>
    Effect.map(pool.statuses, (statuses) => {
      const simulated =
        (pool.name === GENERATOR_POOL && embedded.urls.length > 0) ||
        (pool.name === REWARD_POOL && embedded.rewardUrls.length > 0)
      return {
        name: pool.name,
        model: pool.model,
        simulated,
        servers: [...statuses.values()].map((status) =>
          status._tag === "Profiled"
            ? { kind: status.profile.kind, version: status.profile.version ?? "" }
            : { kind: "unknown", version: "" },
        ),
      }
    }),
  )
  return {
    version: packageJson.version,
    commit: process.env.STAGEBEAM_COMMIT ?? "unknown",
    simulated: pools.some((pool) => pool.simulated),
    pools,
  } satisfies DescribeResponse
})
