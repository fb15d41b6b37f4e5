import { readdirSync } from "node:fs"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { Effect, Layer, Metric } from "effect"
import { MetricsRefresh } from "./MetricsRefresh.ts"

const residentMemory = Metric.gauge("process_resident_memory_bytes", {
  description: "Resident set size of the gateway process",
})
const heapUsed = Metric.gauge("nodejs_heap_used_bytes", { description: "V8 heap in use" })
const openFds = Metric.gauge("process_open_fds", { description: "Open file descriptors (Linux)" })

const loopDelayMax = Metric.gauge("nodejs_eventloop_delay_max_seconds", {
  description: "Longest the event loop was held since the gateway started serving (every door and /metrics wait on it)",
})
const loopDelayP99 = Metric.gauge("nodejs_eventloop_delay_p99_seconds", {
  description: "99th percentile of the event loop's delay since the gateway started serving",
})

/** Descriptors the process holds; undefined where /proc is not there. */
const countFds = (): number | undefined => {
  try {
    return readdirSync("/proc/self/fd").length
  } catch {
    return undefined
  }
}

/** The process's memory and descriptors as gauges, read with each /metrics read: what a soak or an operator watches. */
export const processMetricsLayer = Layer.effectDiscard(
  Effect.flatMap(MetricsRefresh, (refresh) =>
    refresh.register(
      Effect.gen(function* () {
        const memory = process.memoryUsage()
        yield* Metric.update(residentMemory, memory.rss)
        yield* Metric.update(heapUsed, memory.heapUsed)
        const fds = countFds()
        if (fds !== undefined) yield* Metric.update(openFds, fds)
      }),
    ),
  ),
)

/**
 * How long the event loop is held (perf_hooks' delay histogram), read with each /metrics read: one request's synchronous
 * work that grows with its input shows here before it shows as every call's latency. Sampled every 20 ms: each sample
 * is a timer that wakes the process, and at 10 ms they were ~4 ms of CPU a second of an idle gateway on a VM
 * (issue #24); a hold worth seeing lasts longer than either.
 */
const LOOP_DELAY_RESOLUTION_MS = 20
export const eventLoopMetricsLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const histogram = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const created = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS })
        created.enable()
        return created
      }),
      (created) => Effect.sync(() => created.disable()),
    )
    const refresh = yield* MetricsRefresh
    yield* refresh.register(
      Effect.gen(function* () {
        if (histogram.count === 0) return
        yield* Metric.update(loopDelayMax, histogram.max / 1e9)
        yield* Metric.update(loopDelayP99, histogram.percentile(99) / 1e9)
      }),
    )
  }),
)
