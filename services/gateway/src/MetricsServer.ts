import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer } from "effect"
import { HttpRouter, HttpServer, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { MetricsRefresh } from "./MetricsRefresh.ts"

/** GET /metrics: the gauges read on demand (MetricsRefresh) are set first, then every metric is written out. */
const metricsRoute = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* HttpRouter.HttpRouter
    const refresh = yield* MetricsRefresh
    yield* router.add(
      "GET",
      "/metrics",
      Effect.andThen(refresh.run, PrometheusMetrics.format()).pipe(
        Effect.map((body) =>
          HttpServerResponse.text(body, { contentType: "text/plain; version=0.0.4; charset=utf-8" }),
        ),
      ),
    )
  }),
)

/** Serves the process's Effect metrics (the gateway's and the fleet's) on GET /metrics for Prometheus to scrape. */
export class MetricsServer extends Context.Service<MetricsServer, { readonly url: string }>()(
  "@stagebeam/gateway/MetricsServer",
) {
  static readonly layer = Layer.unwrap(
    Effect.gen(function* () {
      const settings = yield* GatewaySettings
      const host = settings.metrics.host
      const serving = HttpRouter.serve(metricsRoute, {
        disableLogger: true,
        disableListenLog: true,
      }).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { host, port: settings.metrics.port })))
      const url = Layer.effect(
        MetricsServer,
        Effect.gen(function* () {
          const { address } = yield* HttpServer.HttpServer
          // The bound port (for port 0); the host as clients should dial it.
          const port = "port" in address ? address.port : settings.metrics.port
          const dial = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host
          return MetricsServer.of({ url: `http://${dial}:${port}/metrics` })
        }),
      )
      return url.pipe(Layer.provide(serving))
    }),
  )
}
