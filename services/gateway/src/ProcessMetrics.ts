import { readdirSync } from "node:fs"
import { Effect, Layer, Metric, Schedule } from "effect"

const residentMemory = Metric.gauge("process_resident_memory_bytes", {
  description: "Resident set size of the gateway process",
})
const heapUsed = Metric.gauge("nodejs_heap_used_bytes", { description: "V8 heap in use" })
const openFds = Metric.gauge("process_open_fds", { description: "Open file descriptors (Linux)" })

/** Descriptors the process holds; undefined where /proc is not there. */
const countFds = (): number | undefined => {
  try {
    return readdirSync("/proc/self/fd").length
  } catch {
    return undefined
  }
}

/** The process's memory and descriptors as gauges, refreshed every 5 s: what a soak or an operator watches. */
export const processMetricsLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const memory = process.memoryUsage()
    yield* Metric.update(residentMemory, memory.rss)
    yield* Metric.update(heapUsed, memory.heapUsed)
    const fds = countFds()
    if (fds !== undefined) yield* Metric.update(openFds, fds)
  }).pipe(Effect.repeat(Schedule.spaced("5 seconds")), Effect.forkScoped),
)
