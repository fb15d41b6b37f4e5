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
 * The old generation may grow to twice what survived the last full collection before the next one starts. V8 sizes that
 * room from its GC speed against the allocation rate (v8/v8 src/heap/heap-controller.cc, `GrowingFactor`; stored copy
 * ba735dd, newer than Node 24's V8; that Node's V8 honours the flag at run time, as the runs below show): a gateway
 * writing photos into bodies allocates fast, and `--trace-gc` under bench/gateway-cpu.ts showed a mark-compact every
 * 2–3 s, mostly started at 124–140 MB with 91–98 MB live (a factor of ~1.4), each 100–200 ms of CPU. Three paired runs
 * (this against the same code without the flag, N=4, both images and doors): the blocks holding a major collection fell
 * from 8–9 to 1–2 of 40, the JPEG's CPU per call 0.82–0.96×, the PNG's 0.86–1.13× (its blocks seldom hold one); RSS
 * mean 410 MB against 428 (bench/results/gateway-cpu-heap-growing.txt). The flag also stands in for the smaller factor
 * V8 takes in its memory-saving modes (it is applied after them); the limit stays bounded halfway to the maximum heap
 * size (`BoundAllocationLimit`), so a memory-limited pod keeps its ceiling.
 */
export const tuneRuntime = () => {
  setFlagsFromString("--no-parallel-scavenge")
  setFlagsFromString("--heap-growing-percent=100")
}
