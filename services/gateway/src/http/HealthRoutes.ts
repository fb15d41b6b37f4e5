import { toWire } from "@stagebeam/proto"
import { Effect } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import type { Health } from "../Health.ts"

/**
 * GET /health and GET /ready: the same status as gRPC health (200 SERVING, 503 NOT_SERVING), with each pool's
 * servers by state and why a pool cannot answer. No token needed: probes and load balancers call them.
 */
export const healthRoutes = (health: Health["Service"]) => {
  const answer = Effect.map(health.report, (report) =>
    // Pool names are the operator's, kept as written; the fields of each in the door's convention (key_refused).
    HttpServerResponse.jsonUnsafe(toWire(report, { records: ["pools"] }), {
      status: report.status === "SERVING" ? 200 : 503,
      headers: { "cache-control": "no-store" },
    }),
  )
  return [HttpRouter.route("GET", "/health", answer), HttpRouter.route("GET", "/ready", answer)]
}
