// What young-generation collections promote when work waits inside a generator (issue #24: why a gateway answer's
// objects outlive the scavenges that should free them). One process, no gateway: runs one at a time, each making
// ~0.16 MB of objects it alone holds and ~1 MB of garbage, then waiting one turn of the event loop (setImmediate) and
// ending. Printed per way of waiting: the runs, the young-generation collections, and what each promoted to the old
// generation on average (v8.GCProfiler: the old spaces' growth across it). What a finished run leaves promoted is
// garbage that only a mark-compact frees.
//   closure: the wait in a plain callback;  generator: in a generator resumed from the callback;
//   Effect chain: Effect.runPromise of yieldNow mapped;  Effect.gen: the same yield inside Effect.gen;
//   generator made once: the same wait in an Effect.fnUntraced generator function made once, at module level.
// Why (V8 13.6, Node 24.22; `node --log-maps --log-maps-details` shows it, bench/lib/generator-maps.ts reads it):
// calling a generator function gives it an initial map (the map of the generator objects it makes), allocated in the
// old generation, whose constructor is the function. A generator function made anew per run (the `function* () {}`
// written inside the run, as every `Effect.gen(function* () {…})` inside a function) gets a new map per run: an
// old object pointing at the young function, its scope and all the scope reaches. A scavenge takes every such pointer
// as a root, so the run's objects survive until a mark-compact finds the map dead. Made once, the function and its
// map are made once: nothing per run is reachable from the old generation.
//
// Run: node --conditions=@stagebeam/source bench/generator-survival.ts

import { GCProfiler } from "node:v8"
import { Effect } from "effect"

interface Collection {
  readonly gcType: string
  readonly beforeGC: { readonly heapSpaceStatistics: ReadonlyArray<{ spaceName: string; spaceUsedSize: number }> }
  readonly afterGC: { readonly heapSpaceStatistics: ReadonlyArray<{ spaceName: string; spaceUsedSize: number }> }
}

/** Where the garbage goes: a module-level slot, so the loop that makes it is not optimised away. */
export let sink: unknown
const made = () => {
  const held = Array.from({ length: 5000 }, (_, i) => ({ i }))
  for (let j = 0; j < 20000; j++) sink = { j, s: `x${j}` }
  return held
}

/** The wait inside a generator function made once, its run's objects passed in. */
const waitOnce = Effect.fnUntraced(function* (held: ReadonlyArray<unknown>) {
  yield* Effect.yieldNow
  return held.length
})

const ways: Record<string, () => Promise<number>> = {
  closure: () =>
    new Promise((resolve) => {
      const held = made()
      setImmediate(() => resolve(held.length))
    }),
  generator: () =>
    new Promise((resolve) => {
      const held = made()
      const steps = (function* () {
        yield
        return held.length
      })()
      const step = () => {
        const next = steps.next()
        if (next.done) resolve(next.value)
        else setImmediate(step)
      }
      step()
    }),
  "Effect chain": () => {
    const held = made()
    return Effect.runPromise(Effect.map(Effect.yieldNow, () => held.length))
  },
  "Effect.gen": () => {
    const held = made()
    return Effect.runPromise(
      Effect.gen(function* () {
        yield* Effect.yieldNow
        return held.length
      }),
    )
  },
  "generator made once": () => Effect.runPromise(waitOnce(made())),
}

const isOld = (space: string) => !["new_space", "new_large_object_space", "read_only_space"].includes(space)
const old = (spaces: ReadonlyArray<{ spaceName: string; spaceUsedSize: number }>) =>
  spaces.filter((space) => isOld(space.spaceName)).reduce((sum, space) => sum + space.spaceUsedSize, 0)

for (const [name, run] of Object.entries(ways)) {
  for (let i = 0; i < 200; i++) await run()
  const profiler = new GCProfiler()
  profiler.start()
  const until = performance.now() + 6000
  let runs = 0
  while (performance.now() < until) {
    await run()
    runs++
  }
  const young = ((profiler.stop()?.statistics ?? []) as unknown as ReadonlyArray<Collection>).filter(
    (c) => c.gcType === "Scavenge" || c.gcType === "MinorMarkSweep",
  )
  const promoted = young.map((c) => old(c.afterGC.heapSpaceStatistics) - old(c.beforeGC.heapSpaceStatistics))
  const mean = promoted.reduce((a, b) => a + b, 0) / Math.max(1, promoted.length)
  console.log(
    `${name.padEnd(13)} ${runs} runs, ${young.length} young collections (a run every ${((6000 / runs) * 1000).toFixed(0)} µs): each promoted ${(mean / 1e6).toFixed(2)} MB on average`,
  )
}
