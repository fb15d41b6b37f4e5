import { readdirSync } from "node:fs"
import { constants, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks"
import { Effect, Layer, Metric } from "effect"
import { MetricsRefresh } from "./MetricsRefresh.ts"

const residentMemory = Metric.gauge("process_resident_memory_bytes", {
  description: "Resident set size of the gateway process",
})
const heapUsed = Metric.gauge("nodejs_heap_used_bytes", { description: "V8 heap in use" })
const openFds = Metric.gauge("process_open_fds", { description: "Open file descriptors (Linux)" })

const loopDelayMax = Metric.gauge("nodejs_eventloop_delay_max_seconds", {
  description:
    "Longest a sample of the event loop came late since the gateway started serving (every door and /metrics wait on it)",
})
const loopDelayP99 = Metric.gauge("nodejs_eventloop_delay_p99_seconds", {
  description: "99th percentile of how late the event loop's samples came since the gateway started serving",
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
 * How long the event loop is held, read with each /metrics read: one request's synchronous work that grows with its
 * input shows here before it shows as every call's latency. perf_hooks' delay histogram records the time between its
 * timer's runs, never less than the resolution (`ELDHistogram::RecordDelta` in node's src/node_perf.cc, read in a
 * stored older copy; on Node 24.22 a quiet loop's minimum is the resolution), so the gauges give how late each run
 * came: that interval less the resolution. Sampled every 50 ms: a hold of B ms makes a sample B − 50 to B late (any
 * hold longer than 50 ms shows), and each sample is a timer that wakes an idle process — at 20 ms they were ~4.4 ms
 * of CPU a second of an idle gateway on this VM (bench/gateway-cpu.ts's idle part with the sampler off against on,
 * issue #24).
 */
const LOOP_DELAY_RESOLUTION_MS = 50

/** The event-loop delay gauges, sampling every `resolutionMs` (a layer of its own, so a test can choose it). */
export const makeEventLoopMetricsLayer = (options: { readonly resolutionMs: number }) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const histogram = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const created = monitorEventLoopDelay({ resolution: options.resolutionMs })
          created.enable()
          return created
        }),
        (created) => Effect.sync(() => created.disable()),
      )
      const lateSeconds = (intervalNs: number) => Math.max(0, intervalNs / 1e6 - options.resolutionMs) / 1000
      const refresh = yield* MetricsRefresh
      yield* refresh.register(
        Effect.suspend(() => {
          if (histogram.count === 0) return Effect.void
          return Effect.andThen(
            Metric.update(loopDelayMax, lateSeconds(histogram.max)),
            Metric.update(loopDelayP99, lateSeconds(histogram.percentile(99))),
          )
        }),
      )
    }),
  )

export const eventLoopMetricsLayer = makeEventLoopMetricsLayer({ resolutionMs: LOOP_DELAY_RESOLUTION_MS })

/** V8's collections by kind, as perf_hooks names them in its gc entries: a bounded label. */
const gcKinds: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
}
const gcRunsOf = (kind: string) =>
  Metric.counter("nodejs_gc_runs_total", {
    description: "V8 garbage collections by kind (minor: a scavenge; major: a mark-compact of the whole heap)",
    attributes: { kind },
  })
const gcPauseOf = (kind: string) =>
  Metric.counter("nodejs_gc_pause_seconds_total", {
    description: "Time the gateway's main thread spent in V8 garbage collections, by kind",
    attributes: { kind },
  })

/** What collections ran since the last /metrics read, by kind: runs and seconds of pause. */
interface GcTally {
  runs: number
  seconds: number
}

/**
 * V8's garbage collections (perf_hooks' gc entries) as counters, added with each /metrics read. A major collection
 * marks the whole heap (~100 MB, the tokenizer's vocabulary included) and costs the gateway 100–200 ms of CPU across
 * its threads: the costliest single event in its steady state (bench/gateway-cpu.ts reads these per block).
 */
export const gcMetricsLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const tally = new Map<string, GcTally>()
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const observer = new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) {
            // @types/node types a gc entry's `detail` on its subclass only.
            const detail = (entry as unknown as { readonly detail?: { readonly kind?: number } }).detail
            const kind = gcKinds[detail?.kind ?? -1] ?? "other"
            const seen = tally.get(kind)
            if (seen === undefined) tally.set(kind, { runs: 1, seconds: entry.duration / 1000 })
            else {
              seen.runs += 1
              seen.seconds += entry.duration / 1000
            }
          }
        })
        observer.observe({ entryTypes: ["gc"] })
        return observer
      }),
      (observer) => Effect.sync(() => observer.disconnect()),
    )
    const refresh = yield* MetricsRefresh
    yield* refresh.register(
      Effect.gen(function* () {
        for (const [kind, { runs, seconds }] of tally) {
          yield* Metric.update(gcRunsOf(kind), runs)
          yield* Metric.update(gcPauseOf(kind), seconds)
        }
        tally.clear()
      }),
    )
  }),
)
