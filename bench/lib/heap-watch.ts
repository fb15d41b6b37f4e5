// A preload for a gateway under a bench: what survives its young-generation collections, and what only a
// mark-compact frees. Loaded with NODE_OPTIONS=--import=./bench/lib/heap-watch.ts (GATEWAY_CPU_NODE_OPTIONS passes it
// to bench/gateway-cpu.ts's own gateway); does nothing in any other process or without HEAP_WATCH_FILE.
//   HEAP_WATCH_FILE=<file>: the report, written once the window ends;
//   HEAP_WATCH_FROM_S / HEAP_WATCH_FOR_S: the window, from start-up (default 10 s and 20 s);
//   HEAP_WATCH_MINOR_GC=1: a young-generation collection forced every second, the Buffers read before each;
//   HEAP_WATCH_MAJOR_GC=1: a mark-compact forced every second (what the old generation then frees is what came to it);
//   HEAP_WATCH_DEAD_MB_S=<MB>: a control, that many MB a second of Buffers dropped as soon as made.
// V8's own GC profile (v8.GCProfiler) gives each collection's spaces before and after: a scavenge's growth of the
// old spaces is what it promoted. Answers are counted on the HTTP door only (node:diagnostics_channel).
import { subscribe } from "node:diagnostics_channel"
import { writeFileSync } from "node:fs"
import { GCProfiler, setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

const file = process.env.HEAP_WATCH_FILE
const isGateway = process.argv[1]?.endsWith("services/gateway/src/main.ts") === true

interface Space {
  readonly spaceName: string
  readonly spaceUsedSize: number
}
interface Collection {
  readonly gcType: string
  readonly beforeGC: {
    readonly heapStatistics: { readonly externalMemory: number }
    readonly heapSpaceStatistics: ReadonlyArray<Space>
  }
  readonly afterGC: { readonly heapSpaceStatistics: ReadonlyArray<Space> }
}

const MB = 1e6
const used = (spaces: ReadonlyArray<Space>, name: (space: string) => boolean) =>
  spaces.filter((space) => name(space.spaceName)).reduce((sum, space) => sum + space.spaceUsedSize, 0)
const isYoung = (space: string) => space === "new_space" || space === "new_large_object_space"
const isOld = (space: string) => !isYoung(space) && space !== "read_only_space"
const mean = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)

if (file !== undefined && isGateway) {
  const fromMs = Number(process.env.HEAP_WATCH_FROM_S ?? 10) * 1000
  const forMs = Number(process.env.HEAP_WATCH_FOR_S ?? 20) * 1000
  const forceMinor = process.env.HEAP_WATCH_MINOR_GC === "1"
  const forceMajor = process.env.HEAP_WATCH_MAJOR_GC === "1"
  let ticks = 0
  const lines: Array<string> = []
  const answers: Array<number> = []
  const started = new WeakMap<object, number>()
  let watching = false
  subscribe("http.server.request.start", (message) => {
    if (watching) started.set((message as { request: object }).request, performance.now())
  })
  subscribe("http.server.response.finish", (message) => {
    const from = started.get((message as { request: object }).request)
    if (from !== undefined) answers.push(performance.now() - from)
  })
  if (forceMinor || forceMajor) setFlagsFromString("--expose-gc")
  const gc = forceMinor || forceMajor ? (runInNewContext("gc") as (options: object) => void) : () => {}
  // A control: Buffers dropped as soon as made, which any scavenge should free.
  const deadPerTick = Number(process.env.HEAP_WATCH_DEAD_MB_S ?? 0) * 250_000
  const profiler = new GCProfiler()
  const t0 = performance.now()
  setTimeout(() => {
    watching = true
    profiler.start()
    const sampler = setInterval(() => {
      ticks++
      if (deadPerTick > 0) Buffer.allocUnsafe(deadPerTick).fill(0, 0, 1)
      const at = performance.now() - t0
      if (forceMajor && ticks % 4 === 2) gc({ type: "major", execution: "sync" })
      if (forceMinor && ticks % 4 === 0) {
        // Read before the collection: its Buffers are freed by a sweep that runs on after it, so the next reading shows them.
        lines.push(
          `${(at / 1000).toFixed(1)} s: Buffers ${(process.memoryUsage().arrayBuffers / MB).toFixed(1)} MB before a forced scavenge`,
        )
        gc({ type: "minor", execution: "sync" })
      }
    }, 250)
    setTimeout(() => {
      watching = false
      clearInterval(sampler)
      const collections = (profiler.stop()?.statistics ?? []) as unknown as ReadonlyArray<Collection>
      const scavenges = collections.filter((c) => c.gcType === "Scavenge")
      const promoted = scavenges.map(
        (c) => used(c.afterGC.heapSpaceStatistics, isOld) - used(c.beforeGC.heapSpaceStatistics, isOld),
      )
      const survived = scavenges.map((c) => used(c.afterGC.heapSpaceStatistics, isYoung))
      const freedBy = (kind: string) =>
        collections
          .filter((c) => c.gcType === kind)
          .map((c) => used(c.beforeGC.heapSpaceStatistics, isOld) - used(c.afterGC.heapSpaceStatistics, isOld))
      // Buffers (external memory) as each collection began: rising from scavenge to scavenge, scavenges freed few.
      const externalBefore = (kind: string) =>
        collections
          .filter((c) => c.gcType === kind)
          .map((c) => (c.beforeGC.heapStatistics.externalMemory / MB).toFixed(0))
          .join(" ")
      const report = [
        `heap-watch: ${(forMs / 1000).toFixed(0)} s from ${(fromMs / 1000).toFixed(0)} s after start-up, pid ${process.pid}`,
        `answers over HTTP: ${answers.length}, ${mean(answers).toFixed(0)} ms each on average (one at a time: the bench's)`,
        `scavenges: ${scavenges.length}, one every ${(forMs / 1000 / Math.max(1, scavenges.length)).toFixed(1)} s; ` +
          `each promoted ${(mean(promoted) / MB).toFixed(2)} MB to the old generation on average (${promoted.map((p) => (p / MB).toFixed(1)).join(" ")}), ` +
          `and left ${(mean(survived) / MB).toFixed(2)} MB in the young one`,
        `mark-compacts: ${freedBy("MarkSweepCompact").length}, each freeing ${freedBy("MarkSweepCompact")
          .map((f) => (f / MB).toFixed(1))
          .join(" ")} MB of the old generation`,
        `external memory (MB, Buffers included) as each scavenge began: ${externalBefore("Scavenge")}; as each mark-compact began: ${externalBefore("MarkSweepCompact")}`,
        ...lines,
      ]
      writeFileSync(file, `${report.join("\n")}\n`)
    }, forMs).unref()
  }, fromMs).unref()
}
