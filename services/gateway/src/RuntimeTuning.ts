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
 * The old generation may grow to twice what survived the last mark-compact before the next one starts. V8's own factor
 * (src/heap/heap-controller.cc, read in v8/v8 0fa243a and the erikcorry/v8 fork, not Node 24's V8) fell to ~1.4 under
 * photo traffic: a mark-compact every 2–3 s, each 100–200 ms of CPU. Four paired runs of bench/gateway-cpu.ts against
 * 333beb9 (the commands and `--trace-gc` in bench/results/gateway-cpu-heap-growing.txt): blocks holding one fell from
 * 8–9 to 1–2 of 40, the JPEG's CPU per call 0.82–0.96×, the PNG's unchanged on average; no RSS increase seen. The flag
 * is applied after V8's memory-saving factors, so it replaces them too; the limit stays bounded halfway to V8's maximum
 * heap size, not to a pod's memory limit.
 *
 * Not here, because V8 reads it only as the heap is made (its MemoryReducer is created in `Heap::SetUp`, `heap.cc`:
 * `if (v8_flags.memory_reducer) memory_reducer_.reset(new MemoryReducer(this))`, read in a stored recent V8 copy, not
 * Node 24.22's own): `--no-memory-reducer`, on the image's command line (deploy/Dockerfile). After an
 * idle spell V8's memory reducer runs a mark-compact and shrinks the young generation to a few MB; the next burst
 * then ran a scavenge every 100–200 ms instead of every few seconds until it had grown back, for a minute of answers
 * (`--trace-gc` of the gateway under bench/gateway-cpu.ts, whose gateways take turns; bench/README.md#gateway-cpu).
 * Without it an idle gateway keeps its heap at what its last busy spell grew it to (bounded by the limit above).
 */
export const tuneRuntime = () => {
  setFlagsFromString("--no-parallel-scavenge")
  setFlagsFromString("--heap-growing-percent=100")
}
