import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { PrometheusMetrics } from "effect/observability"

/** Serves the process's Effect metrics (the gateway's and the fleet's) on GET /metrics for Prometheus to scrape. */
export const serveMetrics = (host: string, port: number) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      HttpRouter.serve(PrometheusMetrics.layerHttp({ path: "/metrics" }), {
        disableLogger: true,
        disableListenLog: true,
      }).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { host, port }))),
    )
    const { address } = yield* HttpServer.HttpServer.pipe(Effect.provide(context))
    // The bound port (for port 0); the host as clients should dial it.
    const boundPort = "port" in address ? address.port : port
    return `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${boundPort}/metrics`
  })
