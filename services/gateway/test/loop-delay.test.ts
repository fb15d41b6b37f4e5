import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { MetricsRefresh } from "../src/MetricsRefresh.ts"
import { makeEventLoopMetricsLayer } from "../src/ProcessMetrics.ts"
import { seriesValue } from "./harness.ts"

// A resolution far above a busy test machine's timer jitter: perf_hooks records the interval between its timer's
// runs, so a gauge that passed those on would read at least 0.25 s on a quiet loop.
const RESOLUTION_MS = 250

const page = Effect.flatMap(MetricsRefresh, (refresh) => Effect.andThen(refresh.run, PrometheusMetrics.format()))
const gauge = (name: string) => Effect.map(page, (text) => Number(seriesValue(text, name, "")))

/** Holds this process's event loop (the gateway's, in process) for `ms`. */
const hold = (ms: number) =>
  Effect.sync(() => {
    const start = performance.now()
    while (performance.now() - start < ms) {}
  })

describe("event-loop delay gauges", () => {
  it.live("read how late the sampler's runs came, not the time between them", () =>
    Effect.gen(function* () {
      yield* Effect.sleep(`${RESOLUTION_MS * 5} millis`)
      const quiet = yield* gauge("nodejs_eventloop_delay_p99_seconds")
      assert.isAtLeast(quiet, 0)
      assert.isBelow(quiet, 0.2, "a quiet loop's samples come about on time")
      // A 600 ms hold covers at least two of the sampler's due times: the first of them runs 350–600 ms late.
      yield* hold(600)
      yield* Effect.sleep(`${RESOLUTION_MS * 2} millis`)
      const held = yield* gauge("nodejs_eventloop_delay_max_seconds")
      assert.isAtLeast(held, 0.3)
      assert.isBelow(held, 0.7)
    }).pipe(
      Effect.provide(
        makeEventLoopMetricsLayer({ resolutionMs: RESOLUTION_MS }).pipe(Layer.provideMerge(MetricsRefresh.layer)),
      ),
    ),
  )
})
