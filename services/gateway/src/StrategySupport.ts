import type { Strategy } from "@stagebeam/cot"
import type { Pool } from "@stagebeam/fleet"
import { Effect } from "effect"
import { Unsupported } from "./GatewayErrors.ts"

/** The strategies whose calls continue a partial answer (every call after the first stage or sentence). */
const CONTINUING: ReadonlySet<Strategy> = new Set(["STAGE_BEAM", "SENTENCE_BEAM"])

/**
 * Refuses, before admission, a request the generator pool's servers cannot serve as asked, naming the pool and
 * the capability: no fallback would give the answer the strategy promises (re-asking a model that cannot continue
 * would judge candidates it did not write after the chosen prefix).
 */
export const checkSupported = (pool: Pool, request: { readonly strategy: Strategy; readonly hasImage: boolean }) =>
  Effect.gen(function* () {
    const capabilities = yield* pool.capabilities
    if (CONTINUING.has(request.strategy) && !capabilities.continuation) {
      return yield* new Unsupported({
        pool: pool.name,
        capability: "continuation",
        message:
          `the ${pool.name} pool cannot run ${request.strategy}: its servers do not continue a partial assistant ` +
          `message (capability "continuation"); BEST_OF_N and GREEDY work on them (declare ` +
          `pools.${pool.name}.capabilities.continuation: true if they do continue)`,
      })
    }
    if (request.hasImage && !capabilities.images) {
      return yield* new Unsupported({
        pool: pool.name,
        capability: "images",
        message: `the ${pool.name} pool's servers take no images (capability "images"): ask without an image`,
      })
    }
  })
