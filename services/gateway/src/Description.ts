import { Fleet } from "@stagebeam/fleet"
import type { DescribeResponse } from "@stagebeam/proto"
import { Effect } from "effect"
import packageJson from "../package.json" with { type: "json" }

/**
 * What this gateway is and what answers behind it, for an evaluation's provenance (Describe): its version and
 * commit ($STAGEBEAM_COMMIT, set by the image build), each pool's model and its servers' kinds and versions as last
 * probed, and which pools are simulated.
 */
export const describeGateway = Effect.gen(function* () {
  const fleet = yield* Fleet
  const pools = yield* Effect.forEach([...fleet.pools.values()], (pool) =>
    Effect.map(pool.statuses, (statuses) => {
      // A pool is simulated when a server of it says so (vllm-sim's model card); a real fleet never does.
      const simulated = [...statuses.values()].some(
        (status) => status._tag === "Profiled" && status.profile.simulated === true,
      )
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
