import { toWire } from "@stagebeam/proto"
import { Effect } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import type { Drain } from "../Drain.ts"
import type { Health } from "../Health.ts"

/**
 * GET /health and GET /ready: the same status as gRPC health (200 SERVING, 503 NOT_SERVING), with each pool's
 * servers by state and why a pool cannot answer. No token needed: probes and load balancers call them. From the
 * drain's start they say NOT_SERVING (`draining: true`), as gRPC health does, so no new call is routed here.
 */
export const healthRoutes = (health: Health["Service"], draining: Drain["Service"]["draining"]) => {
  const answer = Effect.gen(function* () {
    const report = yield* health.report
    const drained = yield* draining
    const status = drained ? "NOT_SERVING" : report.status
    // Pool names are the operator's, kept as written; the fields of each in the door's convention (key_refused).
    return HttpServerResponse.jsonUnsafe(toWire({ ...report, status, draining: drained }, { records: ["pools"] }), {
      status: status === "SERVING" ? 200 : 503,
      headers: { "cache-control": "no-store" },
    })
  })
  return [HttpRouter.route("GET", "/health", answer), HttpRouter.route("GET", "/ready", answer)]
}
