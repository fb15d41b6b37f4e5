import { setFlagsFromString } from "node:v8"

/**
 * V8 set for a gateway process, before it serves. Set at run time, each applies from the next collection on.
 *
 * Scavenges (the young generation's collections, one every few seconds under load, each copying the ~3 MB of calls in
 * flight) run on the main thread alone: spread over V8's helper threads, one cost ~10 ms of the main thread and ~27 ms
 * of the helpers' (--trace-gc-nvp, on this 2-core VM, where the helpers contend with the event loop). Four paired runs
 * of bench/gateway-cpu.ts (this against the same code with parallel scavenges, STAGE_BEAM N=4, PNG and JPEG, both
 * doors) put the CPU per upstream call at 0.95× (16 settings, 0.83–1.06×); the pause grows by the share the helpers
 * did. `--trace-gc-nvp` of a scratch allocation loop shows `background.scavenge.parallel` 22–43 ms per scavenge
 * without the flag and 0 after `setFlagsFromString`.
 *
 * The old generation may grow to twice what survived the last mark-compact before the next one starts. V8 sizes that
 * room from its GC speed against the allocation rate (the growing factor in src/heap/heap-controller.cc, read in
 * v8/v8's stored copy 0fa243a, of 2019, and a recent one in the erikcorry/v8 fork; not in Node 24.22's own V8): a
 * gateway writing photos into bodies allocates fast, and `--trace-gc` under bench/gateway-cpu.ts showed a mark-compact
 * every 2–3 s, mostly at 124–140 MB of heap against 91–98 MB surviving (a factor of roughly 1.4), each 100–200 ms of
 * CPU by the bench's block differences. Three paired runs (this against the same code without the flag, N=4, both
 * images and doors; bench/results/gateway-cpu-heap-growing.txt): the blocks holding a major collection fell from 8–9 to
 * 1–2 of 40, the JPEG's CPU per call 0.82–0.96×, the PNG's 0.86–1.13× (its blocks seldom hold one); no RSS increase
 * seen in the one run sampled (mean 410 MB against 428). In both versions of the source the flag is applied after, so
 * also stands in for, the smaller factor V8 takes in its memory-saving modes; the limit stays bounded halfway to V8's
 * maximum heap size, which is not a pod's memory limit.
 */
export const tuneRuntime = () => {
  setFlagsFromString("--no-parallel-scavenge")
  setFlagsFromString("--heap-growing-percent=100")
}
