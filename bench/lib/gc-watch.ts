// Preloaded into a gateway process (NODE_OPTIONS="--import <repo>/bench/lib/gc-watch.ts", e.g. around
// bench/gateway-cpu.ts): V8's garbage collections by kind (count and pause ms, from perf_hooks' gc entries) and the
// heap, appended to GC_WATCH_FILE every 5 s. Only a process whose entry point is the gateway's main writes: the bench
// and the simulators inherit NODE_OPTIONS too. What bench/README.md's gateway-cpu "GC" item counted.
import { appendFileSync } from "node:fs"
import { constants, PerformanceObserver } from "node:perf_hooks"

const file = process.env.GC_WATCH_FILE
if (file !== undefined && process.argv[1]?.endsWith("services/gateway/src/main.ts")) {
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
    [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak callbacks",
  }
  const tally = new Map<string, { count: number; ms: number }>()
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as unknown as { readonly detail?: { readonly kind?: number } }).detail
      const kind = kinds[detail?.kind ?? -1] ?? "other"
      const seen = tally.get(kind) ?? { count: 0, ms: 0 }
      tally.set(kind, { count: seen.count + 1, ms: seen.ms + entry.duration })
    }
  }).observe({ entryTypes: ["gc"] })
  setInterval(() => {
    const { heapUsed, external } = process.memoryUsage()
    const counts = [...tally].map(([kind, { count, ms }]) => `${kind} ${count} (${ms.toFixed(0)} ms)`).join(", ")
    appendFileSync(
      file,
      `${new Date().toISOString()} pid ${process.pid} heap ${(heapUsed / 1e6).toFixed(0)} MB, external ${(external / 1e6).toFixed(0)} MB; ${counts}\n`,
    )
  }, 5000).unref()
}
